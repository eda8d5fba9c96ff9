#include "pagefl/data/data_source.h"

#include <fmt/ranges.h>
#include <torch/torch.h>

#include <algorithm>
#include <optional>

#include "pagefl/core/error.h"
#include "pagefl/data/cifar_reader.h"
#include "pagefl/data/idx_reader.h"
#include "pagefl/data/leaf_json.h"
#include "pagefl/data/synthetic.h"
#include "pagefl/data/tiny_imagenet_reader.h"

namespace pagefl {
namespace {

// Published per-channel statistics of each image dataset's training split. Fixed constants, not
// statistics of the pooled data, so no client's data informs another's preprocessing.
struct ChannelStats {
  std::vector<float> mean, std;
};

ChannelStats imageStats(const std::string& source) {
  if (source == "mnist") return {{0.1307f}, {0.3081f}};
  if (source == "fashion-mnist") return {{0.2860f}, {0.3530f}};
  if (source == "cifar10") return {{0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f}};
  if (source == "tiny-imagenet") return {{0.4802f, 0.4481f, 0.3975f}, {0.2302f, 0.2265f, 0.2262f}};
  return {{0.5071f, 0.4865f, 0.4409f}, {0.2673f, 0.2564f, 0.2762f}};  // cifar100
}

Dataset standardise(Dataset data, const ChannelStats& stats) {
  auto shape = std::vector<std::int64_t>{1, static_cast<std::int64_t>(stats.mean.size()), 1, 1};
  auto mean = torch::tensor(stats.mean).view(shape);
  auto std = torch::tensor(stats.std).view(shape);
  data.x.sub_(mean).div_(std);
  return data;
}

bool isImageSource(const std::string& source) {
  return source == "mnist" || source == "fashion-mnist" || source == "cifar10" || source == "cifar100" ||
         source == "tiny-imagenet";
}

std::int64_t countClasses(const std::vector<const Dataset*>& parts) {
  std::int64_t classes = 0;
  for (const Dataset* part : parts)
    if (part->size() > 0) classes = std::max(classes, part->y.max().item<std::int64_t>() + 1);
  return classes;
}

// The rows (ascending) of a random subset of `count` of `size` samples, or nullopt to keep all.
std::optional<torch::Tensor> subsetRows(std::int64_t size, std::int64_t count, const RngStreams& streams,
                                        std::int64_t which) {
  if (count <= 0 || count >= size) return std::nullopt;
  auto gen = streams.torchGenerator(Purpose::Subset, which);
  auto picked = torch::randperm(size, gen, torch::kInt64).slice(0, 0, count);
  return std::get<0>(picked.sort());
}

SourceData loadLeaf(const DataConfig& config) {
  if (config.leaf_train.empty() || config.leaf_test.empty())
    throw Error("data.source = \"leaf\" needs data.leaf_train and data.leaf_test (LEAF JSON files)");
  LeafFile train_file = readLeafJson(config.leaf_train, config.leaf_sample_shape);
  auto& train = train_file.users;
  auto test = readLeafJson(config.leaf_test, config.leaf_sample_shape).users;
  std::vector<LeafUser> server_test;
  if (!config.leaf_server_test.empty())
    server_test = readLeafJson(config.leaf_server_test, config.leaf_sample_shape).users;
  giveEveryUserOneShape(
      {{config.leaf_train, &train}, {config.leaf_test, &test}, {config.leaf_server_test, &server_test}});
  if (std::all_of(train.begin(), train.end(), [](const LeafUser& user) { return user.data.size() == 0; }))
    throw Error("'{}' holds no training samples: every user's \"y\" is empty", config.leaf_train);
  if (train.size() != test.size())
    throw Error("'{}' has {} users but '{}' has {}: train and test files must list the same users", config.leaf_train,
                train.size(), config.leaf_test, test.size());

  SourceData out;
  std::vector<Dataset> pooled_tests;
  for (std::size_t u = 0; u < train.size(); ++u) {
    if (train[u].name != test[u].name)
      throw Error("user {} is '{}' in '{}' but '{}' in '{}': list users in the same order", u, train[u].name,
                  config.leaf_train, test[u].name, config.leaf_test);
    out.natural.push_back({train[u].name, train[u].data, test[u].data});
    pooled_tests.push_back(test[u].data);
  }
  if (config.leaf_server_test.empty()) {
    out.server_test = concatenate(pooled_tests);
  } else {
    std::vector<Dataset> parts;
    for (const LeafUser& user : server_test) parts.push_back(user.data);
    out.server_test = concatenate(parts);
  }
  std::vector<const Dataset*> all = {&out.server_test};
  for (auto& client : out.natural) all.insert(all.end(), {&client.local, &client.test});
  // Character data predicts the next character: every character of the vocabulary is a class.
  out.num_classes = train_file.characters ? static_cast<std::int64_t>(kLeafCharacters.size()) : countClasses(all);
  return out;
}

}  // namespace

std::string defaultDataPath(const std::string& source) {
  if (source == "fashion-mnist") return "/usr/share/datasets/fashion-mnist";
  return "";
}

Dataset standardiseImages(Dataset images, const std::string& source) {
  if (!isImageSource(source)) return images;
  const ChannelStats stats = imageStats(source);
  const auto channels = static_cast<std::int64_t>(stats.mean.size());
  if (images.x.dim() != 4 || images.x.size(1) != channels)
    throw Error("images of shape [{}] do not fit data.source = \"{}\", whose images have {} channel(s)",
                fmt::join(images.x.sizes().slice(1), ", "), source, channels);
  return standardise(std::move(images), stats);
}

SourceData loadSource(const Config& config, const RngStreams& streams) {
  const DataConfig& data = config.data;
  const std::string path = data.path.empty() ? defaultDataPath(data.source) : data.path;
  SourceData out;

  if (data.source == "fashion-mnist" || data.source == "mnist") {
    if (path.empty()) throw Error("data.source = \"{}\" needs data.path: the directory with its IDX files", data.source);
    auto openSplit = [&](const std::string& prefix) {  // images first, so errors name them first
      std::string images = findIdxFile(path, prefix + "-images-idx3-ubyte");
      std::string labels = findIdxFile(path, prefix + "-labels-idx1-ubyte");
      torch::Tensor y = readIdxLabels(labels, images);
      requireLabelsInRange({torch::Tensor(), y}, 10, fmt::format("'{}'", labels));
      return SamplePool(y, [images, source = data.source](const std::vector<std::int64_t>& rows) {
        return standardiseImages({readIdxImages(images, &rows), torch::Tensor()}, source).x;
      });
    };
    out.pool = openSplit("train");
    out.server_test = openSplit("t10k").readAll();
    out.num_classes = 10;
  } else if (data.source == "cifar10" || data.source == "cifar100") {
    if (path.empty()) throw Error("data.source = \"{}\" needs data.path: the extracted binary directory", data.source);
    auto variant = data.source == "cifar10" ? CifarVariant::Cifar10 : CifarVariant::Cifar100;
    auto openSplit = [&](const std::vector<std::string>& files) {
      return SamplePool(readCifarLabels(files, variant),
                        [files, variant, source = data.source](const std::vector<std::int64_t>& rows) {
                          return standardiseImages({readCifarImages(files, variant, &rows), torch::Tensor()}, source).x;
                        });
    };
    out.pool = openSplit(cifarTrainFiles(path, variant));
    out.server_test = openSplit(cifarTestFiles(path, variant)).readAll();
    out.num_classes = variant == CifarVariant::Cifar10 ? 10 : 100;
  } else if (data.source == "tiny-imagenet") {
    if (path.empty()) throw Error("data.source = \"tiny-imagenet\" needs data.path: the extracted tiny-imagenet-200 directory");
    TinyImageNetFiles tiny = openTinyImageNet(path);
    auto standardised = [source = data.source](const SamplePool& images) {
      return SamplePool(images.labels(), [images, source](const std::vector<std::int64_t>& rows) {
        return standardiseImages(images.read(rows), source).x;
      });
    };
    out.pool = standardised(tiny.train);
    out.server_test = standardised(tiny.val).readAll();
    out.num_classes = tiny.num_classes;
  } else if (data.source == "synthetic") {
    SyntheticData synthetic = generateSynthetic(config.synthetic, streams);
    for (std::size_t i = 0; i < synthetic.client_local.size(); ++i)
      out.natural.push_back({fmt::format("client_{}", i), synthetic.client_local[i], Dataset{}});
    out.server_test = synthetic.server_test;
    out.num_classes = config.synthetic.classes;
  } else if (data.source == "leaf") {
    out = loadLeaf(data);
  } else {
    throw Error("unknown data.source '{}'", data.source);
  }

  if (out.pool.size() == 0 && !out.natural.empty() && config.partition.scheme != "natural") {
    std::vector<Dataset> parts;
    for (auto& client : out.natural) parts.push_back(client.local);
    out.pool = SamplePool::inMemory(concatenate(parts));
  }
  if (auto picked = subsetRows(out.pool.size(), data.train_subset, streams, 0)) out.pool = out.pool.subset(*picked);
  if (auto picked = subsetRows(out.server_test.size(), data.test_subset, streams, 1))
    out.server_test = out.server_test.select(*picked);
  if (out.server_test.size() == 0) throw Error("the server test set of data.source = \"{}\" is empty", data.source);
  return out;
}

}  // namespace pagefl
