// The wire: a stream of chunks (each one byte of length, then its protobuf bytes) assembled under
// a size limit, then decoded as a site's update and as a round message, as server and site do.
#include <google/protobuf/stubs/logging.h>

#include "fuzz_support.h"
#include "pagefl/net/wire_codec.h"

// Protobuf logs every string field of invalid UTF-8 it parses: tens of MB of log per minute.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<pagefl::wire::Chunk> chunks;
  for (std::size_t at = 0; at < size;) {
    const std::size_t length = std::min<std::size_t>(data[at], size - at - 1);
    pagefl::wire::Chunk chunk;
    if (chunk.ParseFromArray(data + at + 1, static_cast<int>(length))) chunks.push_back(std::move(chunk));
    at += 1 + length;
  }
  pagefl::fuzz::refusedOnlyWithErrors([&] {
    pagefl::net::ChunkAssembler assembler(std::int64_t{1} << 20);
    for (const auto& chunk : chunks) assembler.add(chunk);
    const pagefl::net::WireMessage message = assembler.finish();
    pagefl::fuzz::refusedOnlyWithErrors([&] { pagefl::net::decodeUpdate(message, 0); });
    pagefl::fuzz::refusedOnlyWithErrors([&] { pagefl::net::decodeRound(message); });
  });
  return 0;
}
