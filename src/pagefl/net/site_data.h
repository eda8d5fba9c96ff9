// A deployed site's own data, read from its local disk in a standard format:
//   LEAF JSON   train.json and test.json holding this site's user (as `pagefl partition
//               --export-leaf` writes them);
//   IDX         train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
//               t10k-labels-idx1-ubyte (each optionally .gz), as MNIST and Fashion-MNIST ship;
//   CIFAR       data_batch_1..5.bin and test_batch.bin (CIFAR-10), or train.bin and test.bin
//               (CIFAR-100), as the binary downloads ship.
// Images from IDX and CIFAR files are standardised by the site once it knows the run's
// data.source (standardiseImages), as the simulator does; LEAF features are taken as they are.
#pragma once

#include <string>

#include "pagefl/data/dataset.h"

namespace pagefl::net {

struct SiteData {
  Dataset train;
  Dataset test;
  std::string format;       // for the log: "LEAF JSON", "IDX", "CIFAR-10 binary", ...
  bool raw_images = false;  // pixels in [0, 1], to standardise as the run's data.source does
};

// Throws pagefl::Error naming the directory, the formats looked for, or the defect found.
SiteData loadSiteData(const std::string& directory, const std::string& site);

}  // namespace pagefl::net
