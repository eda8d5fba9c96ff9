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

// Reads an unsigned-byte IDX file; gzip is detected from the content, not the name.
// Throws pagefl::Error for a missing, corrupt, truncated or over-long file.
IdxArray readIdx(const std::string& path);

// Writes an unsigned-byte IDX file, gzipped when `gzip` is true (used by tests and exports).
void writeIdx(const std::string& path, const IdxArray& array, bool gzip);

// Reads an images file ([N, rows, cols]) and a labels file ([N]) into a Dataset of shape
// [N, 1, rows, cols] with pixels scaled to [0, 1].
Dataset readIdxImagesAndLabels(const std::string& images_path, const std::string& labels_path);

// Finds `name` or `name.gz` in `directory`; throws with both paths tried when neither exists.
std::string findIdxFile(const std::string& directory, const std::string& name);

}  // namespace pagefl
