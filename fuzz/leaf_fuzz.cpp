// The LEAF JSON reader, as numeric features and reshaped to an image.
#include "fuzz_support.h"
#include "pagefl/data/leaf_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = pagefl::fuzz::asFile(data, size, ".json");
  pagefl::fuzz::refusedOnlyWithErrors([&] { pagefl::readLeafJson(path); });
  pagefl::fuzz::refusedOnlyWithErrors([&] { pagefl::readLeafJson(path, {1, 2, 2}); });
  return 0;
}
