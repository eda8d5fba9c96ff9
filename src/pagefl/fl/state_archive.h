// Named tensors to bytes and back (safetensors, core/safetensors.h): the format of server
// checkpoints and of a deployed client's state on its disk (sealed: core/sealed_file.h).
#pragma once

#include <string>

#include "pagefl/fl/messages.h"

namespace pagefl {

std::string serializeTensors(const NamedTensors& tensors);
// Throws pagefl::Error naming `what` when the bytes are not a serialized NamedTensors.
NamedTensors deserializeTensors(const std::string& bytes, const std::string& what);

// Opaque bytes (a serialized agent, a JSON document) carried as a uint8 tensor, and back.
torch::Tensor bytesTensor(const std::string& bytes);
std::string tensorBytes(const torch::Tensor& tensor);

// The tensor `key` of a loaded state; throws naming `what` when it is missing.
const torch::Tensor& requireTensor(const NamedTensors& state, const std::string& key, const std::string& what);

}  // namespace pagefl
