#include "pagefl/net/site_data.h"

#include <filesystem>

#include "pagefl/core/error.h"
#include "pagefl/data/cifar_reader.h"
#include "pagefl/data/idx_reader.h"
#include "pagefl/data/leaf_json.h"

namespace pagefl::net {
namespace {

namespace fs = std::filesystem;

bool hasFile(const fs::path& directory, const std::string& name) {
  return fs::exists(directory / name) || fs::exists(directory / (name + ".gz"));
}

Dataset leafUser(const fs::path& file, const std::string& site) {
  LeafFile leaf = readLeafJson(file.string());
  for (LeafUser& user : leaf.users)
    if (user.name == site) return std::move(user.data);
  throw Error("'{}' has no user '{}': pass the site's name as --id (its LEAF user name)", file.string(), site);
}

}  // namespace

SiteData loadSiteData(const std::string& directory, const std::string& site) {
  const fs::path dir(directory);
  if (!fs::is_directory(dir)) throw Error("--data '{}' is not a directory", directory);
  if (fs::exists(dir / "train.json") && fs::exists(dir / "test.json"))
    return {leafUser(dir / "train.json", site), leafUser(dir / "test.json", site), "LEAF JSON"};
  if (hasFile(dir, "train-images-idx3-ubyte") && hasFile(dir, "t10k-images-idx3-ubyte"))
    return {readIdxImagesAndLabels(findIdxFile(directory, "train-images-idx3-ubyte"),
                                   findIdxFile(directory, "train-labels-idx1-ubyte")),
            readIdxImagesAndLabels(findIdxFile(directory, "t10k-images-idx3-ubyte"),
                                   findIdxFile(directory, "t10k-labels-idx1-ubyte")),
            "IDX", true};
  if (fs::exists(dir / "data_batch_1.bin"))
    return {readCifarBinary(cifarTrainFiles(directory, CifarVariant::Cifar10), CifarVariant::Cifar10),
            readCifarBinary(cifarTestFiles(directory, CifarVariant::Cifar10), CifarVariant::Cifar10),
            "CIFAR-10 binary", true};
  if (fs::exists(dir / "train.bin") && fs::exists(dir / "test.bin"))
    return {readCifarBinary(cifarTrainFiles(directory, CifarVariant::Cifar100), CifarVariant::Cifar100),
            readCifarBinary(cifarTestFiles(directory, CifarVariant::Cifar100), CifarVariant::Cifar100),
            "CIFAR-100 binary", true};
  throw Error("--data '{}' holds no site data pagefl reads: expected LEAF JSON (train.json, test.json), IDX "
              "(train-images-idx3-ubyte, t10k-images-idx3-ubyte and their labels) or CIFAR binary (data_batch_1.bin "
              "... test_batch.bin, or train.bin and test.bin)",
              directory);
}

}  // namespace pagefl::net
