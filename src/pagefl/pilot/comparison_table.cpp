#include "pagefl/pilot/comparison_table.h"

#include <fmt/format.h>

#include <cmath>
#include <functional>

namespace pagefl {
namespace {

MeanStd meanStd(const std::vector<RunResult>& runs, const std::function<double(const RunResult&)>& value) {
  MeanStd out;
  for (const RunResult& run : runs) out.mean += value(run);
  out.mean /= static_cast<double>(runs.size());
  if (runs.size() > 1) {
    double squares = 0;
    for (const RunResult& run : runs) squares += std::pow(value(run) - out.mean, 2);
    out.std = std::sqrt(squares / static_cast<double>(runs.size() - 1));
  }
  return out;
}

// The table's columns: a header that names stream and round, and how to read the row.
struct Column {
  std::string header;
  std::function<MeanStd(const ComparisonRow&)> value;
  bool percent = true;
};

const std::vector<Column>& columns() {
  static const std::vector<Column> all = {
      {"G->S acc, final round", [](const ComparisonRow& r) { return r.g2s_final; }},
      {"G->S acc, best round", [](const ComparisonRow& r) { return r.g2s_best; }},
      {"P->L acc (client mean), final round", [](const ComparisonRow& r) { return r.p2l_final; }},
      {"P->L acc (client mean), best round", [](const ComparisonRow& r) { return r.p2l_best; }},
      {"P->L std across clients, final round", [](const ComparisonRow& r) { return r.p2l_std_final; }},
      {"P->L worst client, final round", [](const ComparisonRow& r) { return r.p2l_worst_final; }},
      {"P->L 10th percentile client, final round", [](const ComparisonRow& r) { return r.p2l_p10_final; }},
      {"G->N acc, new clients, final round", [](const ComparisonRow& r) { return r.g2n_final; }},
      {"FT->N acc, new clients after steps, final", [](const ComparisonRow& r) { return r.ft2n_final; }},
      {"G->S rounds to recover after the shift", [](const ComparisonRow& r) { return r.g2s_recovery; }, false},
      {"P->L rounds to recover after the shift", [](const ComparisonRow& r) { return r.p2l_recovery; }, false},
      {"seconds per round", [](const ComparisonRow& r) { return r.seconds_per_round; }, false},
  };
  return all;
}

std::string cell(const MeanStd& v, bool percent) {
  if (std::isnan(v.mean)) return "-";  // a stream this comparison did not measure
  return percent ? fmt::format("{:.2f} ± {:.2f}", 100 * v.mean, 100 * v.std) : fmt::format("{:.3g} ± {:.2g}", v.mean, v.std);
}

}  // namespace

std::vector<ComparisonRow> summariseComparison(const std::vector<RunResult>& results) {
  std::vector<std::string> order;
  for (const RunResult& r : results)
    if (std::find(order.begin(), order.end(), r.algorithm) == order.end()) order.push_back(r.algorithm);
  std::vector<ComparisonRow> rows;
  for (const std::string& algorithm : order) {
    std::vector<RunResult> runs;
    for (const RunResult& r : results)
      if (r.algorithm == algorithm) runs.push_back(r);
    ComparisonRow row;
    row.algorithm = algorithm;
    row.seeds = static_cast<std::int64_t>(runs.size());
    row.final_round = runs.front().final_round;
    row.g2s_final = meanStd(runs, [](const RunResult& r) { return r.g2s_final; });
    row.g2s_best = meanStd(runs, [](const RunResult& r) { return r.g2s_best; });
    row.p2l_final = meanStd(runs, [](const RunResult& r) { return r.p2l_final; });
    row.p2l_best = meanStd(runs, [](const RunResult& r) { return r.p2l_best; });
    row.p2l_std_final = meanStd(runs, [](const RunResult& r) { return r.p2l_std_final; });
    row.p2l_worst_final = meanStd(runs, [](const RunResult& r) { return r.p2l_worst_final; });
    row.p2l_p10_final = meanStd(runs, [](const RunResult& r) { return r.p2l_p10_final; });
    row.seconds_per_round = meanStd(runs, [](const RunResult& r) { return r.seconds_per_round; });
    row.g2n_final = meanStd(runs, [](const RunResult& r) { return r.g2n_final; });
    row.ft2n_final = meanStd(runs, [](const RunResult& r) { return r.ft2n_final; });
    row.g2s_recovery = meanStd(runs, [](const RunResult& r) { return r.g2s_recovery_rounds; });
    row.p2l_recovery = meanStd(runs, [](const RunResult& r) { return r.p2l_recovery_rounds; });
    rows.push_back(row);
  }
  return rows;
}

std::string comparisonText(const std::vector<ComparisonRow>& rows) {
  std::string out = fmt::format("{:<44}", "accuracy in %, mean ± std over seeds");
  for (const ComparisonRow& row : rows) out += fmt::format(" {:>16}", row.algorithm);
  out += "\n";
  for (const Column& column : columns()) {
    out += fmt::format("{:<44}", column.header);
    for (const ComparisonRow& row : rows) out += fmt::format(" {:>16}", cell(column.value(row), column.percent));
    out += "\n";
  }
  out += fmt::format("{:<44}", "seeds, final round");
  for (const ComparisonRow& row : rows) out += fmt::format(" {:>16}", fmt::format("{}, {}", row.seeds, row.final_round));
  return out + "\n";
}

std::string comparisonMarkdown(const std::vector<ComparisonRow>& rows) {
  std::string out = "| algorithm | seeds | final round |";
  std::string rule = "|---|---|---|";
  for (const Column& column : columns()) {
    out += fmt::format(" {}{} |", column.header, column.percent ? " (%)" : "");
    rule += "---|";
  }
  out += "\n" + rule + "\n";
  for (const ComparisonRow& row : rows) {
    out += fmt::format("| {} | {} | {} |", row.algorithm, row.seeds, row.final_round);
    for (const Column& column : columns()) out += fmt::format(" {} |", cell(column.value(row), column.percent));
    out += "\n";
  }
  return out;
}

std::string htmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (c == '&') {
      out += "&amp;";
    } else {
      out += c;
    }
  }
  return out;
}

std::string comparisonHtml(const std::vector<ComparisonRow>& rows) {
  std::string out = "<table>\n<tr><th>algorithm</th><th>seeds</th><th>final round</th>";
  for (const Column& column : columns())
    out += fmt::format("<th>{}{}</th>", htmlEscape(column.header), column.percent ? " (%)" : "");
  out += "</tr>\n";
  for (const ComparisonRow& row : rows) {
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td>", htmlEscape(row.algorithm), row.seeds, row.final_round);
    for (const Column& column : columns()) out += fmt::format("<td>{}</td>", cell(column.value(row), column.percent));
    out += "</tr>\n";
  }
  return out + "</table>";
}

std::string comparisonCsv(const std::vector<ComparisonRow>& rows) {
  std::string out = "algorithm,seeds,final_round";
  for (const Column& column : columns()) out += fmt::format(",\"{} (mean)\",\"{} (std)\"", column.header, column.header);
  out += "\n";
  for (const ComparisonRow& row : rows) {
    out += fmt::format("{},{},{}", row.algorithm, row.seeds, row.final_round);
    for (const Column& column : columns()) {
      const MeanStd v = column.value(row);
      out += fmt::format(",{:.6f},{:.6f}", v.mean, v.std);
    }
    out += "\n";
  }
  return out;
}

}  // namespace pagefl
