#include "pagefl/report/progress_bar.h"

#include <fmt/format.h>
#include <unistd.h>

#include "pagefl/fl/streams.h"

namespace pagefl {
namespace {

std::string clock(double seconds) {
  const auto s = static_cast<long>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

double meanOf(const RoundRecord& record, const std::string& key) {
  double sum = 0;
  int count = 0;
  for (const ClientRecord& client : record.clients)
    if (auto it = client.metrics.find(key); it != client.metrics.end()) sum += it->second, ++count;
  return count ? sum / count : -1;
}

}  // namespace

ProgressBar::ProgressBar(std::FILE* out)
    : out_(out), terminal_(isatty(fileno(out)) != 0), started_(std::chrono::steady_clock::now()) {}

void ProgressBar::onRoundClosed(const RoundRecord& record) {
  if (record.evaluated) {
    latest_ = fmt::format("G->S {:.1f}%", 100 * record.global_on_server.accuracy());
    if (double p2l = meanOf(record, streams::accuracyKey(streams::kPersonalOnLocal)); p2l >= 0)
      latest_ += fmt::format("  P->L {:.1f}%", 100 * p2l);
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  const double fraction = static_cast<double>(record.round) / static_cast<double>(record.total_rounds);
  const double eta = elapsed / fraction - elapsed;
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string line = fmt::format("[{}{}] round {}/{}  elapsed {}  ETA {}  {}", std::string(filled, '#'),
                                 std::string(kWidth - filled, '.'), record.round, record.total_rounds, clock(elapsed),
                                 clock(eta), latest_);
  if (terminal_) {
    fmt::print(out_, "\r{:<110}", line);
  } else {
    const std::int64_t step = std::max<std::int64_t>(1, record.total_rounds / 20);
    if (record.round % step == 0 || record.round == record.total_rounds || record.round == 1) fmt::print(out_, "{}\n", line);
  }
  std::fflush(out_);
}

void ProgressBar::onRunEnded(RunEnd, std::int64_t) {
  if (terminal_) fmt::print(out_, "\n");
}

}  // namespace pagefl
