// Between the Algorithm's messages and the wire: a header that says what the bytes are, the
// float32 payload, and its cut into chunks. The assembler refuses what a client must not send:
// more than the size limit, tensors that do not add up to the payload, a stream cut short.
#pragma once

#include <cstdint>
#include <string>

#include "pagefl/fl/messages.h"
#include "pagefl/net/proto/federation.pb.h"

namespace pagefl::net {

// Bytes of payload per data chunk, well under gRPC's default 4 MiB per message.
inline constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
// What a server accepts per gRPC message: one chunk plus room for the header.
inline constexpr int kMaxWireMessageBytes = 4 << 20;

struct WireMessage {
  wire::Header header;
  std::string payload;
};

// A tensor's values as the wire carries them (float32, row-major): what the audit log hashes.
std::string parameterBytes(const torch::Tensor& tensor);

WireMessage encodeRound(const ServerMessage& message);
ServerMessage decodeRound(const WireMessage& wire);
WireMessage encodeUpdate(const ClientUpdate& update, const std::string& client_id);
// The update of client `client_index`. Throws pagefl::Error saying what is malformed.
ClientUpdate decodeUpdate(const WireMessage& wire, std::int64_t client_index);

// Calls send(chunk) for the header and then each data chunk; stops early when send returns false
// (the peer went away). Returns whether every chunk was sent.
template <typename Send>
bool sendChunks(const WireMessage& message, Send&& send) {
  wire::Chunk chunk;
  *chunk.mutable_header() = message.header;
  if (!send(chunk)) return false;
  for (std::size_t offset = 0; offset < message.payload.size(); offset += kChunkBytes) {
    chunk.set_data(message.payload.substr(offset, kChunkBytes));
    if (!send(chunk)) return false;
  }
  return true;
}

// Rebuilds a message from its chunks. Each method throws pagefl::Error naming the defect.
class ChunkAssembler {
 public:
  explicit ChunkAssembler(std::int64_t max_payload_bytes) : max_payload_bytes_(max_payload_bytes) {}
  void add(const wire::Chunk& chunk);
  // Call when the stream has ended: refuses a stream without a header or cut short.
  WireMessage finish();
  std::int64_t bytesReceived() const { return static_cast<std::int64_t>(message_.payload.size()); }
  bool hasHeader() const { return has_header_; }
  const wire::Header& header() const { return message_.header; }

 private:
  std::int64_t max_payload_bytes_;
  bool has_header_ = false;
  WireMessage message_;
};

}  // namespace pagefl::net
