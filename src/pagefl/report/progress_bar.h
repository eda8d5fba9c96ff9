// A terminal progress bar: round, ETA and the latest G->S and P->L. On a terminal it redraws one
// line; otherwise (logs, CI) it prints a plain line about twenty times per run.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "pagefl/sim/round_record.h"

namespace pagefl {

class ProgressBar final : public RoundObserver {
 public:
  explicit ProgressBar(std::FILE* out = stderr);
  void onRound(const RoundRecord& record) override;
  void onFinish() override;

 private:
  std::FILE* out_;
  bool terminal_;
  std::chrono::steady_clock::time_point started_;
  std::string latest_;
};

}  // namespace pagefl
