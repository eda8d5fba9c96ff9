// The state archives of server checkpoints and site state files. Raw input must pass the seal
// (a checksum) or be refused; sealed input, as a forger who recomputes the checksum would write
// it, must pass the archive parser and the checkpoint's validation or be refused.
#include "fuzz_support.h"
#include "pagefl/fl/state_archive.h"
#include "pagefl/net/server_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const std::string path = pagefl::fuzz::asFile(data, size, ".pt");
  pagefl::fuzz::refusedOnlyWithErrors([&] { pagefl::readSealedFile(path, "the fuzzed file"); });
  pagefl::writeSealedFile(path, bytes);
  pagefl::fuzz::refusedOnlyWithErrors([&] { pagefl::net::loadCheckpoint(path, 10, 4); });
  return 0;
}
