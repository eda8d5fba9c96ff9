// Files replaced atomically, and files sealed with a checksum: how pagefl writes every state it
// must find intact after a crash (checkpoints, a site's state, the final model).
#pragma once

#include <string>

namespace pagefl {

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
