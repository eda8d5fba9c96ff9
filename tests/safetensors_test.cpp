// safetensors, the format of pagefl's state files: exact bytes on a small case, every dtype back
// as written, and each way a hostile header can lie refused with a clear message.
#include "pagefl/core/safetensors.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <limits>
#include <sstream>

#include "pagefl/core/error.h"
#include "pagefl/rl/ddpg_agent.h"
#include "test_support.h"

namespace pagefl::safetensors {
namespace {

using testing::errorOf;

// A file as the format's specification lays it out: the header length, the header, the data.
std::string fileOf(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const std::uint64_t length = header.size();
  std::memcpy(out.data(), &length, 8);
  return out + header + data;
}

std::string floats(std::initializer_list<float> values) {
  std::string bytes(values.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), values.begin(), bytes.size());
  return bytes;
}

TEST(Safetensors, WritesTheSpecifiedLayoutExactly) {
  const std::string written =
      encode({{"b", torch::tensor({3.0f})}, {"a", torch::tensor({1.0f, 2.0f})}}, {{"round", "7"}});
  // Keys in order, offsets from the start of the data, the header padded with spaces to 8 bytes.
  std::string header = R"({"__metadata__":{"round":"7"},"a":{"data_offsets":[0,8],"dtype":"F32","shape":[2]},)"
                       R"("b":{"data_offsets":[8,12],"dtype":"F32","shape":[1]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  EXPECT_EQ(written, fileOf(header, floats({1, 2, 3})));
}

TEST(Safetensors, ReadsAFileWrittenByTheReferenceLayout) {
  const Contents read =
      decode(fileOf(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"format":"pt"}})",
                    floats({1, 2, 3, 4})),
             "the file");
  ASSERT_EQ(read.tensors.count("w"), 1u);
  EXPECT_TRUE(torch::equal(read.tensors.at("w"), torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).reshape({2, 2})));
  EXPECT_EQ(read.metadata.at("format"), "pt");
}

TEST(Safetensors, EveryDtypeComesBackAsWritten) {
  const Tensors tensors = {
      {"f64", torch::tensor({1.5, -2.25}, torch::kFloat64)},
      {"f32", torch::randn({3, 4})},
      {"f16", torch::tensor({0.5f, 8.0f}).to(torch::kFloat16)},
      {"bf16", torch::tensor({0.5f, 8.0f}).to(torch::kBFloat16)},
      {"i64", torch::tensor({std::int64_t{1} << 40, std::int64_t{-3}}, torch::kInt64)},
      {"i32", torch::tensor({7, -7}, torch::kInt32)},
      {"i16", torch::tensor({7, -7}, torch::kInt16)},
      {"i8", torch::tensor({7, -7}, torch::kInt8)},
      {"u8", torch::tensor({0, 255}, torch::kUInt8)},
      {"bool", torch::tensor({true, false})},
      {"scalar", torch::tensor(4.0)},
      {"empty", torch::zeros({0, 3})},
      {"strided", torch::arange(12, torch::kFloat32).reshape({3, 4}).t()},
  };
  const Contents read = decode(encode(tensors), "the file");
  ASSERT_EQ(read.tensors.size(), tensors.size());
  for (const auto& [name, tensor] : tensors) {
    const torch::Tensor& back = read.tensors.at(name);
    EXPECT_EQ(back.scalar_type(), tensor.scalar_type()) << name;
    EXPECT_EQ(back.sizes(), tensor.sizes()) << name;
    EXPECT_TRUE(torch::equal(back, tensor)) << name;
  }
}

TEST(Safetensors, AHeaderThatLiesIsRefusedNamingTheDefect) {
  const std::string four = floats({1, 2, 3, 4});
  auto refusal = [&](const std::string& header, const std::string& data = std::string()) {
    return errorOf([&] { decode(fileOf(header, data.empty() ? four : data), "the state file"); });
  };
  auto spec = [](const std::string& dtype, const std::string& shape, const std::string& offsets) {
    return R"({"w":{"dtype":)" + dtype + R"(,"shape":)" + shape + R"(,"data_offsets":)" + offsets + "}}";
  };
  const auto has = [](const std::string& message, const std::string& part) {
    return message.find(part) != std::string::npos && message.find("the state file") != std::string::npos;
  };

  EXPECT_TRUE(has(errorOf([] { decode("abc", "the state file"); }), "shorter than the 8-byte header length"));
  EXPECT_TRUE(has(errorOf([] { decode(std::string(8, '\xff'), "the state file"); }), "the header claims"));
  EXPECT_TRUE(has(refusal("{not json"), "not JSON"));
  EXPECT_TRUE(has(refusal("[1,2]"), "not a JSON object"));
  EXPECT_TRUE(has(refusal(R"({"w":3})"), "needs \"dtype\""));
  EXPECT_TRUE(has(refusal(spec(R"("F128")", "[4]", "[0,16]")), "has dtype \"F128\""));
  EXPECT_TRUE(has(refusal(spec(R"("F32")", "[-4]", "[0,16]")), "has shape [-4]"));
  EXPECT_TRUE(has(refusal(spec(R"("F32")", "[1,1,1,1,1,1,1,1,4]", "[0,16]")), "at most 8 sizes"));
  EXPECT_TRUE(has(refusal(spec(R"("F32")", "[4]", "[0,32]")), "claims bytes 0 to 32 of the 16 bytes"));
  EXPECT_TRUE(has(refusal(spec(R"("F32")", "[4]", "[8,0]")), "claims bytes 8 to 0"));
  EXPECT_TRUE(has(refusal(spec(R"("F32")", "[3]", "[0,16]")), "needs 12 bytes, its data_offsets give 16"));
  EXPECT_TRUE(has(refusal(spec(R"("F32")", "[1099511627776,1099511627776]", "[0,16]")), "larger than its 16 bytes"));
  EXPECT_TRUE(has(refusal(spec(R"("F32")", "[4]", "[0,-16]")), "two byte positions"));
  EXPECT_TRUE(has(refusal(spec(R"("F32")", "[2]", "[0,8]")), "cover 8 of the 16 bytes"));
  EXPECT_TRUE(has(refusal(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                          R"("b":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}})"),
                  "without gaps or overlaps"));
  EXPECT_TRUE(has(refusal(spec(R"("BOOL")", "[4]", "[0,4]"), std::string("\x01\x00\x02\x01", 4)), "other than 0 or 1"));
  EXPECT_TRUE(has(refusal(R"({"__metadata__":{"round":7}})", ""), "is not a string"));

  // A hostile name is quoted in part, never whole.
  const std::string long_name(100000, 'x');
  const std::string message = refusal(R"({")" + long_name + R"(":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})");
  EXPECT_LT(message.size(), 400u) << message.substr(0, 400);
}

TEST(Safetensors, ADdpgAgentIsRefusedWhenItsSavedNetworksAreForged) {
  rl::DdpgOptions options;
  options.state_dim = 3;
  options.action_dim = 2;
  rl::DdpgAgent agent(options, at::make_generator<at::CPUGeneratorImpl>(1));
  std::ostringstream saved;
  agent.save(saved);
  Contents contents = decode(saved.str(), "the agent");
  contents.tensors.at("actor/fc1.weight")[0][0] = std::numeric_limits<float>::quiet_NaN();
  std::istringstream nan(encode(contents.tensors));
  EXPECT_NE(errorOf([&] { agent.load(nan); }).find("'actor/fc1.weight' holds NaN or Inf"), std::string::npos);
  Contents without = decode(saved.str(), "the agent");
  without.tensors.erase("critic/fc1.bias");
  std::istringstream missing(encode(without.tensors));
  EXPECT_NE(errorOf([&] { agent.load(missing); }).find("lacks 'critic/fc1.bias'"), std::string::npos);
}

}  // namespace
}  // namespace pagefl::safetensors
