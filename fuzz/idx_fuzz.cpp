// The IDX reader (MNIST, Fashion-MNIST), on raw bytes; gzip is exercised through the seed corpus.
#include <vector>

#include "fuzz_support.h"
#include "pagefl/data/idx_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = pagefl::fuzz::asFile(data, size, ".idx");
  pagefl::fuzz::refusedOnlyWithErrors([&] { pagefl::readIdx(path); });
  // As a rank of a sharded simulation reads it: chosen items only.
  const std::vector<std::int64_t> items = {0, 2};
  pagefl::fuzz::refusedOnlyWithErrors([&] { pagefl::readIdx(path, &items); });
  return 0;
}
