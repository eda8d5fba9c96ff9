// The JPEG decoder of the Tiny-ImageNet reader.
#include <vector>

#include "fuzz_support.h"
#include "pagefl/data/jpeg_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> bytes(data, data + size);
  pagefl::fuzz::refusedOnlyWithErrors([&] { pagefl::decodeJpeg(bytes, "input.JPEG"); });
  return 0;
}
