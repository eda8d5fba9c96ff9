// Reading and writing the config: TOML via toml++, overrides, range checks, unknown keys.
#include "pagefl/core/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "pagefl/core/error.h"

namespace pagefl {
namespace {

std::size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string formatNumber(double x) {
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return fmt::format("{}", x);
}

void checkBounds(const std::string& origin, const std::string& key, double value, Bounds bounds) {
  if (!(value >= bounds.min && value <= bounds.max))
    throw Error("{}: {} = {} is out of range; it must be between {} and {}", origin, key, formatNumber(value),
                formatNumber(bounds.min), formatNumber(bounds.max));
}

// Fills a Config from a parsed TOML table, remembering which keys it knows.
class TableReader final : public ConfigFieldVisitor {
 public:
  TableReader(const toml::table& table, std::string origin) : table_(table), origin_(std::move(origin)) {}

  std::set<std::string> known_keys;

  void integer(const std::string& key, std::int64_t& value, Bounds bounds, const char*) override {
    known_keys.insert(key);
    auto node = table_.at_path(key);
    if (!node) return;
    auto parsed = node.value_exact<std::int64_t>();
    if (!parsed) typeError(key, "an integer", node);
    checkBounds(origin_, key, static_cast<double>(*parsed), bounds);
    value = *parsed;
  }

  void real(const std::string& key, double& value, Bounds bounds, const char*) override {
    known_keys.insert(key);
    auto node = table_.at_path(key);
    if (!node) return;
    std::optional<double> parsed;
    if (node.is_floating_point()) parsed = node.value_exact<double>();
    if (node.is_integer()) parsed = static_cast<double>(*node.value_exact<std::int64_t>());
    if (!parsed) typeError(key, "a number", node);
    checkBounds(origin_, key, *parsed, bounds);
    value = *parsed;
  }

  void flag(const std::string& key, bool& value, const char*) override {
    known_keys.insert(key);
    auto node = table_.at_path(key);
    if (!node) return;
    auto parsed = node.value_exact<bool>();
    if (!parsed) typeError(key, "true or false", node);
    value = *parsed;
  }

  void text(const std::string& key, std::string& value, const std::vector<std::string>& choices,
            const char*) override {
    known_keys.insert(key);
    auto node = table_.at_path(key);
    if (!node) return;
    auto parsed = node.value_exact<std::string>();
    if (!parsed) typeError(key, "a string", node);
    if (!choices.empty() && std::find(choices.begin(), choices.end(), *parsed) == choices.end())
      throw Error("{}: {} = \"{}\" is not supported; choose one of: {}", origin_, key, excerpt(*parsed),
                  fmt::join(choices, ", "));
    value = *parsed;
  }

  void integers(const std::string& key, std::vector<std::int64_t>& value, Bounds bounds, const char*) override {
    readArray<std::int64_t>(key, value, "an array of integers, e.g. [1, 28, 28]", [&](std::int64_t item) {
      checkBounds(origin_, key, static_cast<double>(item), bounds);
    });
  }

  void texts(const std::string& key, std::vector<std::string>& value, const char*) override {
    readArray<std::string>(key, value, "an array of strings, e.g. [\"site-a\", \"site-b\"]", [](const std::string&) {});
  }

 private:
  // Reads the array at `key` (when present) into `value`, calling `check` on each element.
  template <typename T, typename Check>
  void readArray(const std::string& key, std::vector<T>& value, const char* expected, Check&& check) {
    known_keys.insert(key);
    auto node = table_.at_path(key);
    if (!node) return;
    const toml::array* array = node.as_array();
    if (!array) typeError(key, expected, node);
    std::vector<T> parsed;
    for (const toml::node& element : *array) {
      auto item = element.value_exact<T>();
      if (!item) typeError(key, expected, node);
      check(*item);
      parsed.push_back(*item);
    }
    value = std::move(parsed);
  }

  [[noreturn]] void typeError(const std::string& key, const char* expected, toml::node_view<const toml::node> node) {
    std::ostringstream shown;
    shown << node;
    throw Error("{}: {} must be {}, but it is {}", origin_, key, expected, excerpt(shown.str()));
  }

  const toml::table& table_;
  std::string origin_;
};

// Writes every field into a TOML table.
class TableWriter final : public ConfigFieldVisitor {
 public:
  toml::table table;

  void integer(const std::string& key, std::int64_t& value, Bounds, const char*) override { put(key, value); }
  void real(const std::string& key, double& value, Bounds, const char*) override { put(key, value); }
  void flag(const std::string& key, bool& value, const char*) override { put(key, value); }
  void text(const std::string& key, std::string& value, const std::vector<std::string>&, const char*) override {
    put(key, value);
  }
  void integers(const std::string& key, std::vector<std::int64_t>& value, Bounds, const char*) override {
    toml::array array;
    for (std::int64_t x : value) array.push_back(x);
    put(key, std::move(array));
  }
  void texts(const std::string& key, std::vector<std::string>& value, const char*) override {
    toml::array array;
    for (const std::string& x : value) array.push_back(x);
    put(key, std::move(array));
  }

 private:
  template <typename T>
  void put(const std::string& key, T&& value) {
    auto dot = key.find('.');
    std::string section = key.substr(0, dot);
    if (!table.contains(section)) table.insert(section, toml::table{});
    table[section].as_table()->insert_or_assign(key.substr(dot + 1), std::forward<T>(value));
  }
};

void collectLeafKeys(const toml::table& table, const std::string& prefix, std::vector<std::string>& out) {
  for (const auto& [name, node] : table) {
    std::string key = prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
    if (const toml::table* sub = node.as_table())
      collectLeafKeys(*sub, key, out);
    else
      out.push_back(key);
  }
}

void rejectUnknownKeys(const toml::table& table, const std::set<std::string>& known, const std::string& origin) {
  std::vector<std::string> keys;
  collectLeafKeys(table, "", keys);
  for (const std::string& key : keys) {
    if (known.count(key)) continue;
    std::string closest;
    std::size_t best = 4;  // suggest only plausible typos
    for (const std::string& candidate : known) {
      std::size_t d = editDistance(key, candidate);
      if (d < best) best = d, closest = candidate;
    }
    if (!closest.empty()) throw Error("{}: unknown key '{}'; did you mean '{}'?", origin, key, closest);
    throw Error("{}: unknown key '{}'; run `pagefl config` to list every key", origin, key);
  }
}

// Applies one `a.b=value` override. The value is read as TOML (numbers, booleans, arrays,
// quoted strings); anything else is taken as a bare string, so `data.source=mnist` works.
void applyOverride(toml::table& table, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("override '{}' must look like key=value, e.g. train.lr=0.05", assignment);
  std::string key = assignment.substr(0, eq);
  std::string raw = assignment.substr(eq + 1);

  toml::table parsed;
  try {
    parsed = toml::parse("value = " + raw);
  } catch (const toml::parse_error&) {
    parsed = toml::table{};
    parsed.insert("value", raw);
  }

  toml::table* section = &table;
  std::size_t start = 0;
  for (std::size_t dot = key.find('.'); dot != std::string::npos; dot = key.find('.', start)) {
    std::string part = key.substr(start, dot - start);
    if (!section->contains(part)) section->insert(part, toml::table{});
    section = (*section)[part].as_table();
    if (!section) throw Error("override '{}': '{}' is a value, not a section", assignment, part);
    start = dot + 1;
  }
  section->insert_or_assign(key.substr(start), std::move(*parsed.get("value")));
}

}  // namespace

namespace {

std::string readText(const std::filesystem::path& path, const std::string& what) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error))
    throw Error("{} '{}' is a directory: name a TOML file", what, path.string());
  std::ifstream in(path);
  if (!in) throw Error("cannot open {} '{}': check the path", what, path.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

toml::table parseToml(const std::string& toml_text, const std::string& origin) {
  try {
    return toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw Error("{}:{}:{}: not valid TOML: {}", origin, where.line, where.column, e.description());
  }
}

// Writes every value of `over` into `base`, descending into tables present in both.
void mergeInto(toml::table& base, const toml::table& over) {
  for (const auto& [key, value] : over) {
    toml::table* base_section = base[key].as_table();
    if (base_section && value.is_table()) {
      mergeInto(*base_section, *value.as_table());
    } else {
      base.insert_or_assign(key, value);
    }
  }
}

// `extends = "other.toml"` at the top of a config starts from that file (relative to this one),
// so that a family of configs states only how each differs from a shared setup.
toml::table resolveExtends(toml::table table, const std::filesystem::path& directory, const std::string& origin,
                           int depth) {
  auto* extends = table.get("extends");
  if (!extends) return table;
  const auto base_name = extends->value<std::string>();
  if (!base_name) throw Error("{}: 'extends' must be the path of another config file, as a string", origin);
  if (depth >= 8) throw Error("{}: 'extends' nests more than 8 files deep; is there a cycle?", origin);
  const std::filesystem::path base_path = directory / *base_name;
  const std::string text = readText(base_path, fmt::format("the config that {} extends", origin));
  toml::table base = resolveExtends(parseToml(text, base_path.string()), base_path.parent_path(),
                                    base_path.string(), depth + 1);
  table.erase("extends");
  mergeInto(base, table);
  return base;
}

// page.variant decides the defaults of the keys it governs; a key the config sets itself wins.
void applyPageVariant(PageConfig& page, const toml::table& table, const std::string& origin) {
  auto given = [&table](const char* key) { return static_cast<bool>(table.at_path(key)); };
  if (!given("page.shift_balance")) page.shift_balance = page.balance;
  if (page.variant == "published") {
    if (page.balance != 0.5 || page.shift_balance != 0.5)
      throw Error("{}: page.balance is pagefl's extension, which page.variant = \"published\" does not have: "
                  "remove page.balance and page.shift_balance, or set page.variant = \"pagefl\"",
                  origin);
    if (!given("page.action_map")) page.action_map = "published";
    for (auto [key, flag] : {std::pair{"page.faithful_lag", &page.faithful_lag},
                             {"page.faithful_action_storage", &page.faithful_action_storage},
                             {"page.faithful_warmup", &page.faithful_warmup},
                             {"page.faithful_sampling", &page.faithful_sampling}})
      if (!given(key)) *flag = true;
  } else if (page.faithful_lag) {
    throw Error("{}: page.faithful_lag needs page.variant = \"published\": a lagged transition is stored "
                "before the server has scored the upload that page.balance rewards",
                origin);
  }
}

// The run's directory is <run.output_dir>/<run.name>: a name with a separator, or "..", would
// write elsewhere.
void checkRunName(const std::string& name, const std::string& origin) {
  const bool single_component = !name.empty() && name != "." && name != ".." &&
                                name.find_first_of(std::string("/\\\0", 3)) == std::string::npos;
  if (!single_component || name.size() > 200)
    throw Error("{}: run.name = \"{}\" must be a plain name of at most 200 characters, without '/', '\\' or "
                "'..', e.g. \"pilot-fmnist\"; set run.output_dir to choose where runs go",
                origin, excerpt(name));
}

Config configFromTable(toml::table table, const std::vector<std::string>& overrides, const std::string& origin) {
  for (const std::string& assignment : overrides) applyOverride(table, assignment);
  Config config;
  TableReader reader(table, origin);
  describeConfig(config, reader);
  rejectUnknownKeys(table, reader.known_keys, origin);
  applyPageVariant(config.page, table, origin);
  checkRunName(config.run.name, origin);
  return config;
}

}  // namespace

Config parseConfig(const std::string& toml_text, const std::vector<std::string>& overrides,
                   const std::string& origin) {
  return configFromTable(resolveExtends(parseToml(toml_text, origin), std::filesystem::current_path(), origin, 0),
                         overrides, origin);
}

Config loadConfig(const std::string& path, const std::vector<std::string>& overrides) {
  if (path.empty()) return parseConfig("", overrides, "<defaults>");
  const toml::table table = parseToml(readText(path, "config file"), path);
  return configFromTable(resolveExtends(table, std::filesystem::path(path).parent_path(), path, 0), overrides, path);
}

std::string toToml(const Config& config) {
  Config copy = config;
  TableWriter writer;
  describeConfig(copy, writer);
  std::ostringstream out;
  out << writer.table << "\n";
  return out.str();
}

}  // namespace pagefl
