// Named tensors to bytes and back (safetensors, core/safetensors.h), and files replaced
// atomically: the format of server checkpoints and of a deployed client's state on its disk.
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

// Writes `bytes` to `path` through a temporary file, fsync and rename, so that a crash at any
// moment leaves either the old file or the new one, never a torn one.
void writeFileAtomically(const std::string& path, const std::string& bytes);
// Throws pagefl::Error naming `what` when the file cannot be read.
std::string readWholeFile(const std::string& path, const std::string& what);

// A state file sealed with the SHA-256 of its contents, written atomically, so that damage on
// disk (a flipped bit, a cut, a hand edit) is refused on load rather than resumed. The checksum
// catches damage, not a forger who recomputes it: callers still range-check what they load.
void writeSealedFile(const std::string& path, const std::string& payload);
// The contents of a sealed file. Throws pagefl::Error naming `what` when the file is missing,
// unsealed or damaged.
std::string readSealedFile(const std::string& path, const std::string& what);

}  // namespace pagefl
