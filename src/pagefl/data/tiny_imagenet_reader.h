// Reader for Tiny-ImageNet-200 in its download layout (tiny-imagenet-200.zip, extracted):
//   wnids.txt                        the 200 class ids
//   train/<wnid>/images/*.JPEG       500 labelled 64x64 images per class
//   val/images/*.JPEG + val/val_annotations.txt   10,000 images, "file<TAB>wnid<TAB>box..."
// The unlabelled test/ split is not read.
#pragma once

#include <string>

#include "pagefl/data/dataset.h"
#include "pagefl/data/sample_pool.h"

namespace pagefl {

struct TinyImageNet {
  Dataset train;  // [N, 3, 64, 64], pixels in [0, 1]
  Dataset val;
  std::int64_t num_classes = 0;
};

// Class indices follow the sorted wnids, as torchvision's ImageFolder numbers them, so results
// line up with PyTorch implementations. Files are read in sorted order, so the result is the same
// on every file system.
TinyImageNet readTinyImageNet(const std::string& directory);

// The same splits listed and labelled from the layout, each image decoded only when read.
struct TinyImageNetFiles {
  SamplePool train, val;
  std::int64_t num_classes = 0;
};
TinyImageNetFiles openTinyImageNet(const std::string& directory);

}  // namespace pagefl
