// Reader for the IDX format of MNIST and Fashion-MNIST, gzipped or raw.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pagefl/data/dataset.h"

namespace pagefl {

// An IDX array of unsigned bytes: dimensions and the raw values in row-major order.
struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> values;
};

// Reads an unsigned-byte IDX file; gzip is detected from the content, not the name. With `items`
// (indices along the first dimension, ascending, distinct) only those items are kept: the file is
// still read and checked whole, but memory holds only what is kept.
// Throws pagefl::Error for a missing, corrupt, truncated or over-long file.
IdxArray readIdx(const std::string& path, const std::vector<std::int64_t>* items = nullptr);

// The dimensions an IDX file's header declares, the values unread.
std::vector<std::int64_t> readIdxDims(const std::string& path);

// Writes an unsigned-byte IDX file, gzipped when `gzip` is true (used by tests and exports).
void writeIdx(const std::string& path, const IdxArray& array, bool gzip);

// Reads an images file ([N, rows, cols]) and a labels file ([N]) into a Dataset of shape
// [N, 1, rows, cols] with pixels scaled to [0, 1].
Dataset readIdxImagesAndLabels(const std::string& images_path, const std::string& labels_path);

// The two halves of it, for reading the labels first and the images of chosen samples later:
// the labels ([N], int64), checked against the images file (read through at once, nothing kept,
// when its length does not match its header, so that damage is found first); and the images
// [N, 1, rows, cols] in [0, 1], only those at `items` (ascending, distinct) when given.
torch::Tensor readIdxLabels(const std::string& labels_path, const std::string& images_path);
torch::Tensor readIdxImages(const std::string& images_path, const std::vector<std::int64_t>* items = nullptr);

// Finds `name` or `name.gz` in `directory`; throws with both paths tried when neither exists.
std::string findIdxFile(const std::string& directory, const std::string& name);

}  // namespace pagefl
