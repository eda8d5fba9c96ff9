// LEAF's federated JSON format: {"users": [...], "num_samples": [...],
// "user_data": {user: {"x": [...], "y": [...]}}}. Read for naturally partitioned data,
// written so that pagefl's partitions can be run by other frameworks on identical data.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pagefl/data/dataset.h"

namespace pagefl {

struct LeafUser {
  std::string name;
  Dataset data;
};

// LEAF's Shakespeare vocabulary (ALL_LETTERS of LEAF's language_utils): 80 characters.
inline constexpr std::string_view kLeafCharacters =
    "\n !\"&'(),-.0123456789:;>?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]abcdefghijklmnopqrstuvwxyz}";

struct LeafFile {
  std::vector<LeafUser> users;
  bool characters = false;  // x were strings and y characters, encoded as vocabulary indices
};

// Reads LEAF JSON. Numeric data: each x is a flat feature vector (nested arrays are flattened),
// reshaped to `sample_shape` when it is not empty. Character data (Shakespeare): each x is a
// string and each y one character; both become indices into kLeafCharacters (x as floats).
// Throws pagefl::Error naming the user and field at fault.
LeafFile readLeafJson(const std::string& path, const std::vector<std::int64_t>& sample_shape = {});

// Users are concatenated and batched together, so their samples must agree in shape, within a
// file and across the files of one dataset; a user without samples takes the others' shape.
// Throws naming both files and users when two disagree. readLeafJson does this for its one file.
using LeafUsersOfFile = std::pair<std::string, std::vector<LeafUser>*>;
void giveEveryUserOneShape(const std::vector<LeafUsersOfFile>& files);

void writeLeafJson(const std::string& path, const std::vector<LeafUser>& users);

}  // namespace pagefl
