#include "pagefl/pilot/comparison_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "pagefl/core/directories.h"
#include "pagefl/core/config.h"
#include "pagefl/core/error.h"
#include "pagefl/pilot/compare.h"
#include "pagefl/pilot/run_results.h"

namespace pagefl {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Run {
  std::string name, variant, algorithm;  // directory name, <variant>-seed<k>; algorithm.name
  std::vector<json> rounds, clients;
};

std::string variantOf(const std::string& run_name) {
  const auto dash = run_name.rfind("-seed");
  return dash == std::string::npos ? run_name : run_name.substr(0, dash);
}

std::vector<json> jsonLines(const fs::path& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

std::vector<Run> finishedRuns(const fs::path& directory) {
  std::vector<Run> runs;
  for (const auto& entry : fs::directory_iterator(directory)) {
    if (!entry.is_directory() || !isFinishedRun(entry.path().string())) continue;
    const std::string name = entry.path().filename().string();
    Run run{name, variantOf(name), loadConfig((entry.path() / "config.toml").string()).algorithm.name,
            jsonLines(entry.path() / "rounds.jsonl"), jsonLines(entry.path() / "clients.jsonl")};
    runs.push_back(std::move(run));
  }
  std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) { return a.name < b.name; });
  return runs;
}

// The tuning's search and chosen settings (tuning/tuning.json), when the comparison was tuned.
std::string tuningHtml(const fs::path& root) {
  const fs::path file = root / "tuning" / "tuning.json";
  if (!fs::is_regular_file(file)) return "";
  json tuning;
  try {
    std::ifstream in(file);
    tuning = json::parse(in);
    std::string rows;
    for (const json& contender : tuning.at("contenders")) {
      const json& best = contender.at("trials").at(contender.at("chosen_trial").get<std::size_t>());
      std::string searched;
      for (const json& d : contender.at("space"))
        searched += fmt::format("{}{} in [{:.4g}, {:.4g}]{}", searched.empty() ? "" : ", ", d.at("key").get<std::string>(),
                                d.at("low").get<double>(), d.at("high").get<double>(), d.at("log").get<bool>() ? " (log)" : "");
      rows += fmt::format("<tr><td style=\"text-align:left\">{}</td><td style=\"text-align:left\">{}</td>"
                          "<td style=\"text-align:left\">{}</td><td>{}</td><td>{:.2f}</td><td>{:.2f}</td></tr>\n",
                          htmlEscape(contender.at("variant").get<std::string>()), htmlEscape(searched),
                          htmlEscape(fmt::format("{}", fmt::join(contender.at("chosen").get<std::vector<std::string>>(), " "))),
                          contender.at("trials").size(), 100 * best.at("global_validation_acc").get<double>(),
                          100 * best.at("local_validation_acc").get<double>());
    }
    return fmt::format(
        "<h2>Tuning</h2>\n<p>Each contender's setting was chosen by random search ({} trials each, the first the "
        "config's own; {} rounds per trial, 0 meaning run.rounds), ranked by the {} of its final validation "
        "accuracies. Trials trained on the train splits and were scored only on validation splits carved from each "
        "client's training data (partition.validation_fraction = {}); the table above is on the test splits. Every "
        "trial is in tuning/.</p>\n<table><tr><th>contender</th><th>searched</th><th>chosen</th><th>trials</th>"
        "<th>G->V %</th><th>P->V %</th></tr>\n{}</table>\n",
        tuning.at("trials_per_contender").get<std::int64_t>(), tuning.at("rounds_per_trial").get<std::int64_t>(),
        htmlEscape(tuning.at("objective").get<std::string>()), tuning.at("validation_fraction").get<double>(), rows);
  } catch (const json::exception& e) {
    throw Error("'{}' is not a tuning record pagefl wrote ({}): remove it or rerun the comparison with --tune",
                file.string(), std::string(e.what()).substr(0, 120));
  }
}

void writeFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw Error("cannot write '{}'", path.string());
}

// An SVG file's <svg> element, without the XML prolog, to inline it in HTML.
std::string inlineSvg(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string svg = text.str();
  const auto start = svg.find("<svg");
  return start == std::string::npos ? svg : svg.substr(start);
}

struct Chart {
  std::string file, title, caption;
};

// Runs gnuplot on `script`, which must write `svg`.
void plot(const fs::path& dir, const std::string& name, const std::string& script) {
  writeFile(dir / (name + ".gp"), fmt::format("set terminal svg size 720,420 font 'sans,11'\nset output '{}'\n{}",
                                              (dir / (name + ".svg")).string(), script));
  const std::string command = fmt::format("gnuplot '{}' 2> '{}'", (dir / (name + ".gp")).string(),
                                          (dir / (name + ".log")).string());
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0)
    throw Error("the report needs gnuplot: install it with scripts/setup.sh (Debian package gnuplot-nox)");
  if (std::system(command.c_str()) != 0)
    throw Error("gnuplot failed on '{}': see '{}'", (dir / (name + ".gp")).string(), (dir / (name + ".log")).string());
}

// Mean over an algorithm's seeds of a per-round value, one column per algorithm.
std::optional<Chart> curveChart(const fs::path& dir, const std::vector<Run>& runs,
                                const std::vector<std::string>& algorithms, const std::string& name,
                                const std::string& title, const std::function<std::optional<double>(const json&)>& read) {
  std::string script = fmt::format("set title \"{}\"\nset xlabel 'round'\nset ylabel 'accuracy (%)'\nset key bottom right\n"
                                   "set grid\nplot ", title);
  bool any = false;
  for (std::size_t a = 0; a < algorithms.size(); ++a) {
    std::map<std::int64_t, std::pair<double, int>> by_round;
    for (const Run& run : runs)
      if (run.variant == algorithms[a])
        for (const json& round : run.rounds)
          if (auto value = read(round)) {
            auto& [sum, count] = by_round[round["round"].get<std::int64_t>()];
            sum += *value, ++count;
          }
    if (by_round.empty()) continue;
    std::string data;
    for (const auto& [round, sc] : by_round) data += fmt::format("{} {}\n", round, 100 * sc.first / sc.second);
    const std::string file = fmt::format("{}-{}.dat", name, algorithms[a]);
    writeFile(dir / file, data);
    script += fmt::format("{}'{}' using 1:2 with linespoints title '{}'", any ? ", " : "", (dir / file).string(),
                          algorithms[a]);
    any = true;
  }
  if (!any) return std::nullopt;
  plot(dir, name, script + "\n");
  return Chart{name + ".svg", title, ""};
}

// A client x round heatmap of a per-client metric of the first run of `algorithm`.
std::optional<Chart> clientHeatmap(const fs::path& dir, const Run& run, const std::string& name,
                                   const std::string& title, const std::function<std::optional<double>(const json&, std::int64_t)>& read,
                                   const std::vector<std::int64_t>& clients) {
  std::string data;
  bool any = false;
  for (const json& round : run.rounds) {
    for (std::int64_t client : clients) {
      auto value = read(round, client);
      data += fmt::format("{} {} {}\n", round["round"].get<std::int64_t>(), client, value ? *value : NAN);
      any = any || value.has_value();
    }
    data += "\n";
  }
  if (!any) return std::nullopt;
  writeFile(dir / (name + ".dat"), data);
  plot(dir, name, fmt::format("set title \"{}\"\nset xlabel 'round'\nset ylabel 'client'\nset view map\n"
                              "set palette rgb 33,13,10\nplot '{}' using 1:2:3 with image pixels notitle\n",
                              title, (dir / (name + ".dat")).string()));
  return Chart{name + ".svg", title, ""};
}

}  // namespace

std::string writeComparisonReport(const std::string& directory, const std::vector<ComparisonRow>& rows) {
  const fs::path root(directory), dir = root / "report";
  ensureDirectory(dir.string(), "the report directory");
  const std::vector<Run> runs = finishedRuns(root);
  std::vector<std::string> algorithms;
  for (const ComparisonRow& row : rows) algorithms.push_back(row.algorithm);

  std::vector<Chart> charts;
  auto add = [&](std::optional<Chart> chart, const std::string& caption) {
    if (chart) chart->caption = caption, charts.push_back(*chart);
  };
  add(curveChart(dir, runs, algorithms, "g2s", "G->S: global model on the server test set",
                 [](const json& r) -> std::optional<double> {
                   if (!r.contains("g2s")) return std::nullopt;
                   return r["g2s"]["acc"].get<double>();
                 }),
      "G->S accuracy at every evaluated round, mean over seeds.");
  add(curveChart(dir, runs, algorithms, "p2l", "P->L: personalised models on their local tests (client mean)",
                 [](const json& r) -> std::optional<double> {
                   if (!r.contains("p2l")) return std::nullopt;
                   return r["p2l"]["acc"]["mean"].get<double>();
                 }),
      "P->L accuracy, unweighted mean over clients, at every evaluated round, mean over seeds.");
  for (const auto& [stream, title, caption] :
       {std::tuple{"g2n", "G->N: global model on new clients (never trained on)",
                   "G->N accuracy, mean over the held-out new clients, at every evaluated round, mean over seeds."},
        std::tuple{"ft2n", "FT->N: global model after local steps on new clients",
                   "FT->N accuracy after eval.new_client_steps SGD steps, mean over new clients and seeds."}}) {
    const std::string key = stream;
    add(curveChart(dir, runs, algorithms, key, title,
                   [key](const json& r) -> std::optional<double> {
                     if (!r.contains(key)) return std::nullopt;
                     return r[key]["acc"]["mean"].get<double>();
                   }),
        caption);
  }

  // Per-client P->L at each run's final evaluated round, pooled over seeds: one box per algorithm.
  {
    std::string script = "set title 'P->L per client at the final round (all seeds)'\nset ylabel 'accuracy (%)'\n"
                         "set style data boxplot\nset style boxplot outliers pointtype 7\nset style fill solid 0.3\n"
                         "set boxwidth 0.5\nset grid ytics\nunset key\nset xtics (";
    std::string plots;
    bool any = false;
    for (std::size_t a = 0; a < algorithms.size(); ++a) {
      std::string data;
      for (const Run& run : runs) {
        if (run.variant != algorithms[a] || run.rounds.empty()) continue;
        std::int64_t last = 0;
        for (const json& r : run.rounds)
          if (r.value("evaluated", false)) last = r["round"].get<std::int64_t>();
        for (const json& c : run.clients)
          if (c["round"].get<std::int64_t>() == last && c.contains("p2l_acc"))
            data += fmt::format("{}\n", 100 * c["p2l_acc"].get<double>());
      }
      if (data.empty()) continue;
      const std::string file = fmt::format("p2l-clients-{}.dat", algorithms[a]);
      writeFile(dir / file, data);
      script += fmt::format("{}'{}' {}", any ? ", " : "", algorithms[a], a + 1);
      plots += fmt::format("{}'{}' using ({}):1", any ? ", " : "", (dir / file).string(), a + 1);
      any = true;
    }
    if (any) {
      plot(dir, "p2l-clients", script + ")\nset xrange [0.5:" + std::to_string(algorithms.size() + 0.5) + "]\nplot " + plots + "\n");
      charts.push_back({"p2l-clients.svg", "P->L per client",
                        "Each client's P->L accuracy at the final evaluated round, every seed pooled: the spread "
                        "is the fairness across sites."});
    }
  }

  // The trade-off: each contender's final G->S against its final P->L (means over seeds).
  if (rows.size() >= 2) {
    // PAGE's balance sweep is one curve, drawn in order of balance.
    std::vector<std::pair<double, std::string>> balance_rows;
    std::string page_points, other_points;
    for (const ComparisonRow& row : rows) {
      const std::string point =
          fmt::format("{} {} {}\n", 100 * row.g2s_final.mean, 100 * row.p2l_final.mean, row.algorithm);
      if (const std::optional<double> balance = sweptBalance(row.algorithm))
        balance_rows.emplace_back(*balance, point);
      else
        (row.algorithm.rfind("page", 0) == 0 ? page_points : other_points) += point;
    }
    std::sort(balance_rows.begin(), balance_rows.end());
    std::string balance_points;
    for (const auto& [balance, point] : balance_rows) balance_points += point;
    std::string script = "set title \"Trade-off: global (G->S) against local (P->L) accuracy, final round\"\n"
                         "set xlabel 'G->S accuracy (%)'\nset ylabel 'P->L accuracy, client mean (%)'\nset grid\n"
                         "set offsets graph 0.15, graph 0.15, graph 0.1, graph 0.1\nset key bottom left\nplot ";
    bool any = false;
    for (const auto& [points, name, title, style] :
         {std::tuple{balance_points, "balance", "PAGE, page.balance 0 to 1", "linespoints pt 7 ps 1.3 lc rgb '#ff7f0e'"},
          std::tuple{page_points, "page", "PAGE", "points pt 7 ps 1.3 lc rgb '#d62728'"},
          std::tuple{other_points, "baselines", "baselines", "points pt 5 ps 1.2 lc rgb '#1f77b4'"}}) {
      if (points.empty()) continue;
      const std::string file = std::string("tradeoff-") + name + ".dat";
      writeFile(dir / file, points);
      script += fmt::format("{}'{}' using 1:2 with {} title '{}', '' using 1:2:3 with labels offset 0,1 notitle",
                            any ? ", " : "", (dir / file).string(), style, title);
      any = true;
    }
    plot(dir, "tradeoff", script + "\n");
    charts.push_back({"tradeoff.svg", "Trade-off",
                      "Each contender's G->S accuracy (x) and mean P->L accuracy (y) at the final evaluated round, "
                      "means over seeds: up and right is better on both."});
  }

  // PAGE's actions and weights, from its first run.
  for (const Run& run : runs) {
    if (run.algorithm != "page") continue;
    std::set<std::int64_t> seen;
    for (const json& c : run.clients) seen.insert(c["client"].get<std::int64_t>());
    const std::vector<std::int64_t> clients(seen.begin(), seen.end());
    std::map<std::pair<std::int64_t, std::int64_t>, json> by_round_client;
    for (const json& c : run.clients)
      by_round_client[{c["round"].get<std::int64_t>(), c["client"].get<std::int64_t>()}] = c;
    auto clientMetric = [&](const std::string& key) {
      return [&, key](const json& round, std::int64_t client) -> std::optional<double> {
        auto it = by_round_client.find({round["round"].get<std::int64_t>(), client});
        if (it == by_round_client.end() || !it->second.contains(key)) return std::nullopt;
        return it->second[key].get<double>();
      };
    };
    add(clientHeatmap(dir, run, "page-lr", "PAGE: learning rate each client's agent chose", clientMetric("rl_lr"), clients),
        fmt::format("rl_lr per client and round, run {}.", run.name));
    add(clientHeatmap(dir, run, "page-epochs", "PAGE: local epochs each client's agent chose", clientMetric("rl_epochs"),
                      clients),
        fmt::format("rl_epochs per client and round, run {}.", run.name));
    add(clientHeatmap(dir, run, "page-weights", "PAGE: aggregation weight the server's agent gave each client",
                      [](const json& round, std::int64_t client) -> std::optional<double> {
                        const std::string key = fmt::format("weight/{}", client);
                        if (!round.contains("server") || !round["server"].contains(key)) return std::nullopt;
                        return round["server"][key].get<double>();
                      },
                      clients),
        fmt::format("server weight/<client> per round, run {}.", run.name));
    break;
  }

  // The partition: label counts per client, stacked.
  if (fs::is_regular_file(root / "partition.csv")) {
    std::ifstream in(root / "partition.csv");
    std::string header;
    std::getline(in, header);
    const auto classes = static_cast<std::int64_t>(std::count(header.begin(), header.end(), ','));
    std::string script = "set title 'Partition: training labels per client'\nset xlabel 'client'\nset ylabel 'samples'\n"
                         "set style data histograms\nset style histogram rowstacked\nset style fill solid 0.9 noborder\n"
                         "set boxwidth 0.8\nset datafile separator ','\nset key outside right title 'class'\nplot ";
    for (std::int64_t c = 0; c < classes; ++c)
      script += fmt::format("{}'{}' using {} title '{}'", c ? ", " : "", (root / "partition.csv").string(), c + 2, c);
    plot(dir, "partition", script + "\n");
    charts.push_back({"partition.svg", "Partition", "Label histogram of each client's local training split."});
  }

  const std::string table = comparisonHtml(rows) + tuningHtml(root);

  std::string figures;
  for (const Chart& chart : charts)
    figures += fmt::format("<figure class=\"chart\"><figcaption><b>{}</b>: {}</figcaption>\n{}\n</figure>\n",
                           htmlEscape(chart.title), htmlEscape(chart.caption), inlineSvg(dir / chart.file));
  const std::string html = fmt::format(R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>pagefl comparison</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
th, td {{ border: 1px solid #bbb; padding: 4px 8px; text-align: right; }}
th {{ background: #eee; }}
figure {{ display: inline-block; margin: 1em; vertical-align: top; }}
</style></head>
<body>
<h1>pagefl comparison</h1>
<p>Directory: {}. Accuracies in %, mean ± sample std over seeds. Every column names its stream (G->S: the global
model on the server test set; P->L: each client's personalised model on its local test split) and whether it is
the value at the final evaluated round or at the best evaluated round.</p>
{}
<h2>Charts</h2>
{}
<script>
// Marks the page for automated checks: how many charts have drawn data.
(function () {{
  var charts = document.querySelectorAll('figure.chart');
  var drawn = 0;
  charts.forEach(function (figure) {{
    var marks = figure.querySelectorAll('svg path, svg image, svg polyline, svg rect');
    if (marks.length > 3) drawn += 1; else figure.setAttribute('data-empty', 'true');
  }});
  document.body.setAttribute('data-charts', String(charts.length));
  document.body.setAttribute('data-charts-drawn', String(drawn));
}})();
</script>
</body></html>
)",
                                       htmlEscape(directory), table, figures);
  writeFile(root / "report.html", html);
  return (root / "report.html").string();
}

}  // namespace pagefl
