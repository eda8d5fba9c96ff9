// Reader for the CIFAR-10 and CIFAR-100 binary versions (the `*-binary.tar.gz` downloads).
#pragma once

#include <string>
#include <vector>

#include "pagefl/data/dataset.h"

namespace pagefl {

enum class CifarVariant { Cifar10, Cifar100 };

// Reads record files into a Dataset of shape [N, 3, 32, 32] with pixels scaled to [0, 1].
// CIFAR-100 records carry a coarse and a fine label; the fine label (100 classes) is used.
Dataset readCifarBinary(const std::vector<std::string>& paths, CifarVariant variant);

// Its two halves, for reading the labels first and the images of chosen samples later: the labels
// ([N], int64); the images [N, 3, 32, 32] in [0, 1], only those at `rows` (record indices over
// the files in order, ascending, distinct) when given. Each reads the files one record at a time.
torch::Tensor readCifarLabels(const std::vector<std::string>& paths, CifarVariant variant);
torch::Tensor readCifarImages(const std::vector<std::string>& paths, CifarVariant variant,
                              const std::vector<std::int64_t>* rows = nullptr);

// The standard file names inside the extracted directory.
std::vector<std::string> cifarTrainFiles(const std::string& directory, CifarVariant variant);
std::vector<std::string> cifarTestFiles(const std::string& directory, CifarVariant variant);

}  // namespace pagefl
