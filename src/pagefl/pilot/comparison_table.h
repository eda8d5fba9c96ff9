// The comparison table: per algorithm, each number as mean +- std over seeds, rendered for the
// terminal, as Markdown and as CSV. Every column names its stream and its round (final or best).
#pragma once

#include <string>
#include <vector>

#include "pagefl/pilot/run_results.h"

namespace pagefl {

struct MeanStd {
  double mean = 0, std = 0;  // std: sample standard deviation over seeds (0 for one seed)
};

struct ComparisonRow {
  std::string algorithm;
  std::int64_t seeds = 0;
  std::int64_t final_round = 0;
  MeanStd g2s_final, g2s_best, p2l_final, p2l_best, p2l_std_final, p2l_worst_final, p2l_p10_final;
  MeanStd g2n_final, ft2n_final;  // NaN when no client was held out as new
  MeanStd g2s_recovery, p2l_recovery;  // rounds to recover after a demand shift; NaN without one
  MeanStd seconds_per_round;
};

// One row per algorithm, in order of first appearance in `results`.
std::vector<ComparisonRow> summariseComparison(const std::vector<RunResult>& results);

std::string comparisonText(const std::vector<ComparisonRow>& rows);
std::string comparisonMarkdown(const std::vector<ComparisonRow>& rows);
std::string comparisonCsv(const std::vector<ComparisonRow>& rows);
std::string comparisonHtml(const std::vector<ComparisonRow>& rows);  // a <table> element

// Text made safe inside HTML elements: <, > and & escaped.
std::string htmlEscape(const std::string& text);

}  // namespace pagefl
