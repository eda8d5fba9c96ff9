#include "pagefl/data/leaf_json.h"

#include <fmt/ranges.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "pagefl/core/error.h"

namespace pagefl {
namespace {

using nlohmann::json;

// More classes than any LEAF task has (FEMNIST 62, Shakespeare 80, Reddit's vocabulary 10,000):
// a larger label is a corrupt file, not a task, and would size the model's output by it.
constexpr std::int64_t kMaxLeafClasses = 1 << 16;

std::int64_t characterIndex(char c, const std::string& where) {
  auto at = kLeafCharacters.find(c);
  if (at == std::string_view::npos)
    throw Error("{}: character '{}' is not in LEAF's 80-character Shakespeare vocabulary", where, c);
  return static_cast<std::int64_t>(at);
}

void flattenNumbers(const json& value, std::vector<float>& out, const std::string& where) {
  if (value.is_string()) {
    for (char c : value.get<std::string>()) out.push_back(static_cast<float>(characterIndex(c, where)));
  } else if (value.is_number()) {
    const double number = value.get<double>();
    if (!(std::abs(number) <= std::numeric_limits<float>::max()))
      throw Error("{}: feature {} is beyond the range of a float", where, excerpt(value.dump()));
    out.push_back(static_cast<float>(number));
  } else if (value.is_array()) {
    for (const json& element : value) flattenNumbers(element, out, where);
  } else {
    throw Error("{}: features must be numbers or arrays of numbers, found {}", where, value.type_name());
  }
}

Dataset readUser(const json& record, const std::string& where, std::int64_t expected,
                 const std::vector<std::int64_t>& sample_shape) {
  if (!record.is_object() || !record.contains("x") || !record.contains("y"))
    throw Error("{}: each user_data entry needs \"x\" and \"y\"", where);
  const json& xs = record["x"];
  const json& ys = record["y"];
  if (!xs.is_array() || !ys.is_array()) throw Error("{}: \"x\" and \"y\" must be arrays", where);
  if (xs.size() != ys.size())
    throw Error("{}: \"x\" has {} samples but \"y\" has {}", where, xs.size(), ys.size());
  if (expected >= 0 && static_cast<std::int64_t>(ys.size()) != expected)
    throw Error("{}: num_samples says {} but the user has {} samples", where, expected, ys.size());

  std::vector<float> features;
  std::int64_t width = -1;
  std::vector<std::int64_t> labels;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (i > 0 && xs[i].is_string() != xs[0].is_string())
      throw Error("{} sample {}: x is {} but sample 0's is {}; a user's samples must all be strings (characters) or "
                  "all numbers",
                  where, i, xs[i].is_string() ? "a string" : "numbers", xs[0].is_string() ? "a string" : "numbers");
    std::size_t before = features.size();
    flattenNumbers(xs[i], features, fmt::format("{} sample {}", where, i));
    auto length = static_cast<std::int64_t>(features.size() - before);
    if (length == 0) throw Error("{} sample {}: x has no features", where, i);
    if (width >= 0 && length != width)
      throw Error("{} sample {}: it has {} features but earlier samples have {}", where, i, length, width);
    width = length;
    if (i > 0 && ys[i].is_string() != ys[0].is_string())
      throw Error("{} sample {}: label is {} but sample 0's is {}; labels must all be integers or all characters",
                  where, i, ys[i].is_string() ? "a string" : "a number", ys[0].is_string() ? "a string" : "a number");
    if (ys[i].is_string() && ys[i].get<std::string>().size() == 1) {
      labels.push_back(characterIndex(ys[i].get<std::string>()[0], fmt::format("{} sample {}", where, i)));
      continue;
    }
    if (!ys[i].is_number_integer() || ys[i].get<std::int64_t>() < 0 || ys[i].get<std::int64_t>() >= kMaxLeafClasses)
      throw Error("{} sample {}: label must be an integer in 0..{} or one character, found {}", where, i,
                  kMaxLeafClasses - 1, excerpt(ys[i].dump()));
    labels.push_back(ys[i].get<std::int64_t>());
  }
  const auto n = static_cast<std::int64_t>(labels.size());
  std::vector<std::int64_t> shape = {n};
  if (sample_shape.empty()) {
    shape.push_back(std::max<std::int64_t>(width, 0));
  } else {
    std::int64_t product = 1;
    for (std::int64_t d : sample_shape) product *= d;
    if (n > 0 && product != width)
      throw Error("{}: samples have {} features, which cannot be reshaped to data.leaf_sample_shape (product {})", where,
                  width, product);
    shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  }
  auto x = torch::from_blob(features.data(), {static_cast<std::int64_t>(features.size())}, torch::kFloat32)
               .clone()
               .reshape(shape);
  auto y = torch::from_blob(labels.data(), {n}, torch::kInt64).clone();
  return {x, y};
}

}  // namespace

void giveEveryUserOneShape(const std::vector<LeafUsersOfFile>& files) {
  const LeafUser* reference = nullptr;
  std::string reference_path;
  for (const auto& [path, users] : files)
    for (const LeafUser& user : *users) {
      if (user.data.size() == 0) continue;
      if (!reference) {
        reference = &user, reference_path = path;
      } else if (user.data.sampleShape() != reference->data.sampleShape()) {
        throw Error(
            "'{}' has samples of shape [{}] but '{}' has [{}] (users '{}' and '{}'): every user needs the "
            "same features",
            path, fmt::join(user.data.sampleShape(), ", "), reference_path,
            fmt::join(reference->data.sampleShape(), ", "), excerpt(user.name), excerpt(reference->name));
      }
    }
  if (!reference) return;
  std::vector<std::int64_t> empty_shape = reference->data.sampleShape();
  empty_shape.insert(empty_shape.begin(), 0);
  for (const auto& [path, users] : files)
    for (LeafUser& user : *users)
      if (user.data.size() == 0) user.data = {torch::empty(empty_shape), torch::empty({0}, torch::kInt64)};
}

LeafFile readLeafJson(const std::string& path, const std::vector<std::int64_t>& sample_shape) {
  if (std::filesystem::is_directory(path)) throw Error("LEAF JSON file '{}' is a directory; it must be a file", path);
  if (!std::filesystem::is_regular_file(path)) throw Error("LEAF JSON file '{}' does not exist", path);
  std::ifstream in(path);
  json root;
  try {
    root = json::parse(in);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers such as 1e400
    throw Error("'{}' is not valid JSON: {}", path, excerpt(e.what(), 200));
  }
  if (!root.is_object() || !root.contains("users") || !root.contains("user_data"))
    throw Error("'{}' is not LEAF JSON: it needs \"users\" and \"user_data\" (and optionally \"num_samples\")", path);
  const json& users = root["users"];
  const json& user_data = root["user_data"];
  if (!users.is_array() || !user_data.is_object())
    throw Error("'{}': \"users\" must be an array and \"user_data\" an object", path);
  const json* num_samples = root.contains("num_samples") ? &root["num_samples"] : nullptr;
  if (num_samples && (!num_samples->is_array() || num_samples->size() != users.size()))
    throw Error("'{}': \"num_samples\" must be an array with one count per user", path);

  LeafFile out;
  for (std::size_t u = 0; u < users.size(); ++u) {
    if (!users[u].is_string()) throw Error("'{}': users[{}] must be a string", path, u);
    std::string name = users[u].get<std::string>();
    std::string where = fmt::format("'{}' user '{}'", path, excerpt(name));
    if (!user_data.contains(name)) throw Error("{}: listed in \"users\" but missing from \"user_data\"", where);
    std::int64_t expected = -1;
    if (num_samples) {
      if (!(*num_samples)[u].is_number_integer()) throw Error("'{}': num_samples[{}] must be an integer", path, u);
      expected = (*num_samples)[u].get<std::int64_t>();
    }
    const json& record = user_data[name];
    if (record.is_object() && record.contains("x") && record["x"].is_array() && !record["x"].empty())
      out.characters = out.characters || record["x"][0].is_string();
    out.users.push_back({name, readUser(record, where, expected, sample_shape)});
  }
  giveEveryUserOneShape({{path, &out.users}});
  return out;
}

void writeLeafJson(const std::string& path, const std::vector<LeafUser>& users) {
  json root;
  root["users"] = json::array();
  root["num_samples"] = json::array();
  root["user_data"] = json::object();
  for (const LeafUser& user : users) {
    const std::int64_t n = user.data.size();
    auto x = user.data.x.reshape({n, -1}).contiguous();
    auto y = user.data.y.contiguous();
    json xs = json::array();
    for (std::int64_t i = 0; i < n; ++i) {
      const float* row = x[i].data_ptr<float>();
      xs.push_back(std::vector<float>(row, row + x.size(1)));
    }
    root["users"].push_back(user.name);
    root["num_samples"].push_back(n);
    root["user_data"][user.name] = {{"x", std::move(xs)},
                                    {"y", std::vector<std::int64_t>(y.data_ptr<std::int64_t>(),
                                                                    y.data_ptr<std::int64_t>() + n)}};
  }
  std::ofstream out(path);
  if (!out) throw Error("cannot write LEAF JSON file '{}'", path);
  out << root.dump() << "\n";
  if (!out) throw Error("failed writing LEAF JSON file '{}' (disk full?)", path);
}

}  // namespace pagefl
