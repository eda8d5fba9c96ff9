// safetensors (https://github.com/huggingface/safetensors): eight bytes of little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
// little-endian tensor bytes. The field's format for tensors that must be loaded without running
// code, and pagefl's format for its own state files: LibTorch's pickle-based archives can abort
// the process on a forged file (found by fuzz/archive_fuzz), this reader only ever throws Error.
#pragma once

#include <torch/types.h>

#include <map>
#include <string>
#include <string_view>

namespace pagefl::safetensors {

using Tensors = std::map<std::string, torch::Tensor>;
// The header's "__metadata__": free-form strings (a model's name, its config, a round).
using Metadata = std::map<std::string, std::string>;

struct Contents {
  Tensors tensors;
  Metadata metadata;
};

// Undefined tensors are left out. Supported dtypes: F64, F32, F16, BF16, I64, I32, I16, I8, U8,
// BOOL; anything else throws Error.
std::string encode(const Tensors& tensors, const Metadata& metadata = {});

// Every size in the header is checked against the bytes that are really there before anything is
// allocated; the byte ranges must tile the data exactly, as the format requires. Throws Error
// naming `what` and the defect.
Contents decode(std::string_view bytes, const std::string& what);

}  // namespace pagefl::safetensors
