// What every harness shares: the input as a file for readers that take a path, and the rule
// that a reader may refuse its input only with pagefl::Error. Anything else (a LibTorch error, a
// JSON or filesystem exception, std::bad_alloc, a signal) escapes, and libFuzzer reports it.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "pagefl/core/error.h"

namespace pagefl::fuzz {

// The input, written to a file of this process ending in `suffix` (rewritten on every call).
inline std::string asFile(const std::uint8_t* data, std::size_t size, const std::string& suffix) {
  const std::string path = "/tmp/pagefl-fuzz-" + std::to_string(::getpid()) + suffix;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

template <typename Read>
void refusedOnlyWithErrors(Read&& read) {
  try {
    read();
  } catch (const pagefl::Error&) {
    // A clear refusal: what a reader must do with a bad input.
  }
}

}  // namespace pagefl::fuzz
