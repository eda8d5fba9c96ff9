// The comparison's pictures and its self-contained HTML report. Charts are drawn by gnuplot (SVG)
// from data files written next to them; report.html embeds the table and every SVG inline, so it
// opens offline with nothing fetched.
#pragma once

#include <string>
#include <vector>

#include "pagefl/pilot/comparison_table.h"

namespace pagefl {

// Writes <directory>/report/ (data, gnuplot scripts, SVG charts) and <directory>/report.html from
// the finished runs in `directory` and `partition.csv` when present. Returns the report's path.
// Throws pagefl::Error when gnuplot is missing or fails.
std::string writeComparisonReport(const std::string& directory, const std::vector<ComparisonRow>& rows);

}  // namespace pagefl
