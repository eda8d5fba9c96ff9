#include "pagefl/modelfile/model_file.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "pagefl/core/error.h"
#include "pagefl/core/runtime.h"
#include "pagefl/core/safetensors.h"
#include "pagefl/core/sealed_file.h"
#include "pagefl/core/sha256.h"

namespace pagefl {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFormat = "pagefl-model-1";
// Bounds on what a header may claim, far above any model pagefl builds: a forged file fails here
// before a network is built for it.
constexpr std::size_t kMaxInputRank = 4;
constexpr std::int64_t kMaxInputDim = 1 << 16, kMaxInputs = 1 << 26, kMaxClasses = 1 << 20;
constexpr std::size_t kMaxHiddenLayers = 64;
constexpr std::int64_t kMaxHiddenWidth = 1 << 20;
const std::set<std::string> kModels = {"logreg", "mlp", "cnn", "cnn-gn", "resnet18-gn", "lstm"};

std::string field(const safetensors::Metadata& metadata, const std::string& key, const std::string& what) {
  auto it = metadata.find(key);
  if (it == metadata.end())
    throw Error("{} is not a pagefl model file: its metadata has no '{}' (pagefl writes it into models/ of a run)",
                what, key);
  return it->second;
}

std::int64_t integerField(const safetensors::Metadata& metadata, const std::string& key, const std::string& what,
                          std::int64_t low, std::int64_t high) {
  const std::string text = field(metadata, key, what);
  try {
    std::size_t end = 0;
    const long long value = std::stoll(text, &end);
    if (end == text.size() && value >= low && value <= high) return value;
  } catch (const std::exception&) {
  }
  throw Error("{}: metadata '{}' must be a whole number from {} to {}, not '{}'", what, key, low, high,
              excerpt(text, 20));
}

std::vector<std::int64_t> sizesField(const safetensors::Metadata& metadata, const std::string& key,
                                     const std::string& what, std::size_t max_count, std::int64_t max_size) {
  const json sizes = json::parse(field(metadata, key, what), nullptr, /*allow_exceptions=*/false);
  if (!sizes.is_array() || sizes.size() > max_count)
    throw Error("{}: metadata '{}' must be a list of at most {} sizes", what, key, max_count);
  std::vector<std::int64_t> out;
  for (const json& size : sizes) {
    if (!size.is_number_integer() || size.get<std::int64_t>() < 1 || size.get<std::int64_t>() > max_size)
      throw Error("{}: metadata '{}' holds {}, not a size from 1 to {}", what, key, excerpt(size.dump(), 20), max_size);
    out.push_back(size.get<std::int64_t>());
  }
  return out;
}

ModelSpec specOf(const safetensors::Metadata& metadata, const std::string& what) {
  ModelSpec spec;
  spec.name = field(metadata, "model", what);
  if (!kModels.count(spec.name))
    throw Error(
        "{}: metadata 'model' is '{}', not one of pagefl's models (logreg, mlp, cnn, cnn-gn, resnet18-gn, lstm)", what,
        excerpt(spec.name, 20));
  spec.sample_shape = sizesField(metadata, "sample_shape", what, kMaxInputRank, kMaxInputDim);
  std::int64_t inputs = 1;
  for (std::int64_t size : spec.sample_shape) inputs *= size;  // at most 4 sizes of 2^16: no overflow
  if (spec.sample_shape.empty() || inputs > kMaxInputs)
    throw Error("{}: metadata 'sample_shape' describes {} inputs per sample; a model takes 1 to {}", what, inputs,
                kMaxInputs);
  spec.num_classes = integerField(metadata, "num_classes", what, 2, kMaxClasses);
  spec.hidden = sizesField(metadata, "hidden", what, kMaxHiddenLayers, kMaxHiddenWidth);
  return spec;
}

// The parameters' raw little-endian float32 bytes: the bytes net::parameterBytes gives the audit
// log to hash, so that a file's parameters_sha256 is the hash the audit log recorded.
std::string float32Bytes(const torch::Tensor& flat) {
  const torch::Tensor values = flat.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  return std::string(static_cast<const char*>(values.data_ptr()), static_cast<std::size_t>(values.nbytes()));
}

// Parameters the network of `spec` has, computed without building it, so that a header cannot make
// pagefl allocate a model larger than the file that claims it. Mirrors nn/models.cpp; a test checks
// it against the built network of every model.
double parameterCount(const ModelSpec& spec) {
  const auto linear = [](double in, double out) { return (in + 1) * out; };
  double inputs = 1;
  for (std::int64_t size : spec.sample_shape) inputs *= static_cast<double>(size);
  const auto classes = static_cast<double>(spec.num_classes);
  if (spec.name == "logreg") return linear(inputs, classes);
  if (spec.name == "mlp") {
    double count = 0, width = inputs;
    for (std::int64_t next : spec.hidden)
      count += linear(width, static_cast<double>(next)), width = static_cast<double>(next);
    return count + linear(width, classes);
  }
  if (spec.name == "cnn" || spec.name == "cnn-gn") {
    if (spec.sample_shape.size() != 3) return -1;  // makeNetwork refuses it
    const double h = static_cast<double>(((spec.sample_shape[1] - 4) / 2 - 4) / 2);
    const double w = static_cast<double>(((spec.sample_shape[2] - 4) / 2 - 4) / 2);
    const double norms = spec.name == "cnn-gn" ? 2 * (32 + 64) : 0;
    return linear(static_cast<double>(spec.sample_shape[0]) * 25, 32) + linear(32 * 25, 64) + norms +
           linear(64 * h * w, 512) + linear(512, classes);
  }
  if (spec.name == "resnet18-gn") {
    if (spec.sample_shape.size() != 3) return -1;
    double count = static_cast<double>(spec.sample_shape[0]) * 64 * 49 + 2 * 64;  // stem and its norm
    double in = 64;
    for (double width : {64.0, 128.0, 256.0, 512.0})
      for (int block = 0; block < 2; ++block) {
        count += in * width * 9 + width * width * 9 + 4 * width;  // two convolutions, two norms
        if (in != width) count += in * width + 2 * width;         // the shortcut and its norm
        in = width;
      }
    return count + linear(512, classes);
  }
  if (spec.name == "lstm") {
    const auto lstm = [](double in, double hidden) { return 4 * hidden * (in + hidden + 2); };
    return classes * 8 + lstm(8, 100) + lstm(100, 100) + linear(100, classes);
  }
  return -1;
}

}  // namespace

std::string encodeModelFile(const ParamLayout& layout, const torch::Tensor& flat, ModelFileInfo info) {
  if (flat.numel() != layout.size())
    throw Error("a model of {} parameters cannot be written with a layout of {}", flat.numel(), layout.size());
  const torch::Tensor values = flat.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  info.parameters_sha256 = sha256Hex(float32Bytes(values));
  safetensors::Tensors tensors;
  for (const ParamEntry& entry : layout.entries())
    tensors[entry.name] = values.slice(0, entry.offset, entry.offset + entry.numel).view(entry.shape);
  const safetensors::Metadata metadata = {
      {"format", kFormat},
      {"model", info.spec.name},
      {"sample_shape", json(info.spec.sample_shape).dump()},
      {"num_classes", std::to_string(info.spec.num_classes)},
      {"hidden", json(info.spec.hidden).dump()},
      {"kind", info.kind},
      {"client", std::to_string(info.client)},
      {"round", std::to_string(info.round)},
      {"seed", std::to_string(info.seed)},
      {"algorithm", info.algorithm},
      {"config", info.config},
      {"parameters_sha256", info.parameters_sha256},
  };
  return safetensors::encode(tensors, metadata);
}

std::string writeModelFile(const std::string& path, const ParamLayout& layout, const torch::Tensor& flat,
                           const ModelFileInfo& info) {
  const std::string bytes = encodeModelFile(layout, flat, info);
  std::error_code error;
  fs::create_directories(fs::path(path).parent_path(), error);
  if (error) throw Error("cannot create the directory of '{}': {}", path, error.message());
  writeFileAtomically(path, bytes);
  return sha256Hex(bytes);
}

LoadedModel decodeModelFile(std::string_view bytes, const std::string& what) {
  safetensors::Contents contents = safetensors::decode(bytes, what);
  if (field(contents.metadata, "format", what) != kFormat)
    throw Error("{}: metadata 'format' is '{}'; this pagefl reads '{}'", what,
                excerpt(contents.metadata.at("format"), 30), kFormat);
  LoadedModel loaded;
  ModelFileInfo& info = loaded.info;
  info.spec = specOf(contents.metadata, what);
  info.kind = field(contents.metadata, "kind", what);
  if (info.kind != "global" && info.kind != "personal")
    throw Error("{}: metadata 'kind' must be global or personal, not '{}'", what, excerpt(info.kind, 20));
  info.client = integerField(contents.metadata, "client", what, -1, std::numeric_limits<std::int32_t>::max());
  info.round = integerField(contents.metadata, "round", what, 0, std::numeric_limits<std::int32_t>::max());
  info.seed = integerField(contents.metadata, "seed", what, std::numeric_limits<std::int64_t>::min(),
                           std::numeric_limits<std::int64_t>::max());
  info.algorithm = field(contents.metadata, "algorithm", what);
  info.config = field(contents.metadata, "config", what);
  info.parameters_sha256 = field(contents.metadata, "parameters_sha256", what);

  std::int64_t stored = 0;  // at most the file's size over 4: the tensors were read from it
  for (const auto& [name, tensor] : contents.tensors) stored += tensor.numel();
  if (parameterCount(info.spec) != static_cast<double>(stored))
    throw Error("{} does not match its model: it stores {} parameters, but model '{}' on samples of shape [{}] has {}",
                what, stored, info.spec.name, fmt::join(info.spec.sample_shape, ", "), parameterCount(info.spec));
  loaded.model = std::make_unique<FlatModel>(makeNetwork(info.spec));
  const ParamLayout& layout = loaded.model->layout();
  std::set<std::string> names;
  for (const ParamEntry& entry : layout.entries()) names.insert(entry.name);
  for (const auto& [name, tensor] : contents.tensors)
    if (!names.count(name))
      throw Error("{} does not match model '{}': it holds a tensor '{}' the model does not have", what, info.spec.name,
                  excerpt(name, 60));
  std::vector<torch::Tensor> parts;
  for (const ParamEntry& entry : layout.entries()) {
    auto it = contents.tensors.find(entry.name);
    if (it == contents.tensors.end())
      throw Error("{} does not match model '{}': it has no tensor '{}'", what, info.spec.name, entry.name);
    const torch::Tensor& tensor = it->second;
    if (tensor.scalar_type() != torch::kFloat32)
      throw Error("{}: tensor '{}' is {}; pagefl's models are float32 (F32)", what, entry.name,
                  c10::toString(tensor.scalar_type()));
    if (tensor.sizes().vec() != entry.shape)
      throw Error("{} does not match model '{}': tensor '{}' has shape [{}], the model's is [{}]", what, info.spec.name,
                  entry.name, fmt::join(tensor.sizes(), ", "), fmt::join(entry.shape, ", "));
    parts.push_back(tensor.reshape({-1}));
  }
  const torch::Tensor flat = torch::cat(parts);
  if (sha256Hex(float32Bytes(flat)) != info.parameters_sha256)
    throw Error(
        "{}: its parameters are not the ones its metadata's parameters_sha256 records (the file was changed "
        "after pagefl wrote it)",
        what);
  loaded.model->load(flat);
  return loaded;
}

LoadedModel readModelFile(const std::string& path) {
  std::error_code error;
  const std::uintmax_t size = fs::file_size(path, error);
  if (error) throw Error("cannot read the model file '{}': {}", path, error.message());
  if (size > static_cast<std::uintmax_t>(physicalMemoryBytes() / 2))
    throw Error("the model file '{}' is {:.1f} GB, more than half of this machine's memory: not a model pagefl wrote",
                path, static_cast<double>(size) / 1e9);
  const std::string bytes = readWholeFile(path, "the model file");
  return decodeModelFile(bytes, fmt::format("the model file '{}'", path));
}

}  // namespace pagefl
