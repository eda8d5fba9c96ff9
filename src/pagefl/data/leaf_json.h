// LEAF's federated JSON format: {"users": [...], "num_samples": [...],
// "user_data": {user: {"x": [...], "y": [...]}}}. Read for naturally partitioned data,
// written so that pagefl's partitions can be run by other frameworks on identical data.
#pragma once

#include <string>
#include <vector>

#include "pagefl/data/dataset.h"

namespace pagefl {

struct LeafUser {
  std::string name;
  Dataset data;
};

// Reads numeric LEAF JSON; each x is a flat feature vector (nested arrays are flattened),
// reshaped to `sample_shape` when it is not empty. Throws pagefl::Error naming the user
// and field at fault.
std::vector<LeafUser> readLeafJson(const std::string& path, const std::vector<std::int64_t>& sample_shape = {});

void writeLeafJson(const std::string& path, const std::vector<LeafUser>& users);

}  // namespace pagefl
