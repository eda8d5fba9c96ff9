#include "pagefl/net/wire_codec.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>

#include "pagefl/core/error.h"
#include "pagefl/net/protobuf_log.h"
#include "test_support.h"

namespace pagefl::net {
namespace {

using testing::errorOf;

std::vector<wire::Chunk> chunksOf(const WireMessage& message) {
  std::vector<wire::Chunk> chunks;
  sendChunks(message, [&](const wire::Chunk& chunk) {
    chunks.push_back(chunk);
    return true;
  });
  return chunks;
}

WireMessage reassemble(const std::vector<wire::Chunk>& chunks, std::int64_t limit = std::int64_t{1} << 30) {
  ChunkAssembler assembler(limit);
  for (const wire::Chunk& chunk : chunks) assembler.add(chunk);
  return assembler.finish();
}

TEST(WireCodec, AnUpdateLargerThanOneChunkArrivesBitForBit) {
  ClientUpdate update;
  update.round = 7;
  update.num_samples = 42;
  update.params = torch::randn({400'000});  // 1.6 MB: two chunks
  update.tensors["control_delta"] = torch::randn({400'000});
  update.metrics = {{"train_loss", 0.25}, {"p2l_acc", 0.75}};
  const std::vector<wire::Chunk> chunks = chunksOf(encodeUpdate(update, "site-a"));
  EXPECT_EQ(chunks.size(), 5u);  // the header and 3.2 MB in 1 MiB chunks
  const ClientUpdate decoded = decodeUpdate(reassemble(chunks), 3);
  EXPECT_EQ(decoded.client, 3);
  EXPECT_EQ(decoded.round, 7);
  EXPECT_EQ(decoded.num_samples, 42);
  EXPECT_TRUE(torch::equal(decoded.params, update.params));
  EXPECT_TRUE(torch::equal(decoded.tensors.at("control_delta"), update.tensors.at("control_delta")));
  EXPECT_EQ(decoded.metrics, update.metrics);
}

TEST(WireCodec, ARoundMessageCarriesItsSettingsAndTensors) {
  ServerMessage message;
  message.round = 3;
  message.evaluate = true;
  message.global = torch::randn({10});
  message.tensors["control"] = torch::randn({10});
  message.settings["lr"] = 0.5;
  const ServerMessage decoded = decodeRound(reassemble(chunksOf(encodeRound(message))));
  EXPECT_EQ(decoded.round, 3);
  EXPECT_TRUE(decoded.evaluate);
  EXPECT_TRUE(torch::equal(decoded.global, message.global));
  EXPECT_TRUE(torch::equal(decoded.tensors.at("control"), message.tensors.at("control")));
  EXPECT_EQ(decoded.settings.at("lr"), 0.5);
}

TEST(WireCodec, MalformedStreamsAreRefusedWithTheirDefect) {
  ClientUpdate update;
  update.params = torch::ones({1000});
  const std::vector<wire::Chunk> chunks = chunksOf(encodeUpdate(update, "site-a"));
  ASSERT_EQ(chunks.size(), 2u);

  EXPECT_NE(errorOf([&] { reassemble({chunks[0]}); }).find("truncated stream: 0 of the 4000"), std::string::npos);
  EXPECT_NE(errorOf([&] { reassemble({chunks[1]}); }).find("before the header"), std::string::npos);
  EXPECT_NE(errorOf([&] { reassemble({chunks[0], chunks[0]}); }).find("second header"), std::string::npos);
  EXPECT_NE(errorOf([&] { reassemble({chunks[0], chunks[1], chunks[1]}); }).find("more data"), std::string::npos);
  EXPECT_NE(errorOf([&] { reassemble(chunks, 3000); }).find("over the limit"), std::string::npos);
  EXPECT_NE(errorOf([&] { reassemble({}); }).find("ended before its header"), std::string::npos);

  // A header whose tensors do not add up to its payload.
  WireMessage lying = encodeUpdate(update, "site-a");
  lying.header.mutable_tensors(0)->set_shape(0, 999);
  EXPECT_NE(errorOf([&] { decodeUpdate(lying, 0); }).find("describes 3996 bytes of tensors but 4000 arrived"),
            std::string::npos);
  lying.header.mutable_tensors(0)->set_shape(0, 1001);
  EXPECT_NE(errorOf([&] { decodeUpdate(lying, 0); }).find("larger than the 4000 bytes of payload left"), std::string::npos);

  // Found by fuzz/wire_fuzz: a scalar (no dimensions) claimed over an empty payload was read past
  // the payload's end, and the next tensor's remaining bytes wrapped around.
  WireMessage scalars;
  scalars.header.add_tensors()->set_name("params");
  wire::TensorSpec* next = scalars.header.add_tensors();
  next->set_name("tensor/x");
  next->add_shape(2);
  EXPECT_NE(errorOf([&] { decodeUpdate(scalars, 0); }).find("tensor 'params' of shape [] is larger than the 0 bytes"),
            std::string::npos);
}

// A hostile site can make protobuf log a line per message (a string field of invalid UTF-8);
// the server writes at most 10 such lines a minute and then says how many it dropped.
TEST(ProtobufLog, AtMostTenLinesAMinuteThenTheCountOfThoseDropped) {
  LineRateLimiter limiter(10);
  const auto start = std::chrono::steady_clock::now();
  int emitted = 0;
  for (int i = 0; i < 25; ++i) {
    const LineRateLimiter::Verdict verdict = limiter.admit(start + std::chrono::seconds(i));
    emitted += verdict.emit;
    EXPECT_EQ(verdict.suppressed_before, 0);
  }
  EXPECT_EQ(emitted, 10);
  const LineRateLimiter::Verdict next_minute = limiter.admit(start + std::chrono::seconds(61));
  EXPECT_TRUE(next_minute.emit);
  EXPECT_EQ(next_minute.suppressed_before, 15);
}

}  // namespace
}  // namespace pagefl::net
