// A terminal progress bar: round, ETA and the latest G->S and P->L. On a terminal it redraws one
// line; otherwise (logs, CI) it prints a plain line about twenty times per run.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "pagefl/engine/run_observer.h"

namespace pagefl {

class ProgressBar final : public RunObserver {
 public:
  explicit ProgressBar(std::FILE* out = stderr);
  void onRoundClosed(const RoundRecord& record) override;
  void onRunEnded(RunEnd end, std::int64_t completed) override;

 private:
  std::FILE* out_;
  bool terminal_;
  std::chrono::steady_clock::time_point started_;
  std::string latest_;
};

}  // namespace pagefl
