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

// The standard file names inside the extracted directory.
std::vector<std::string> cifarTrainFiles(const std::string& directory, CifarVariant variant);
std::vector<std::string> cifarTestFiles(const std::string& directory, CifarVariant variant);

}  // namespace pagefl
