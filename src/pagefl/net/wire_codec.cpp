#include "pagefl/net/wire_codec.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <cstring>

#include "pagefl/core/error.h"

namespace pagefl::net {
namespace {

// __BYTE_ORDER__ rather than std::endian: the fuzz build compiles this file as C++17.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the wire format is little-endian float32");

constexpr const char* kGlobal = "global";
constexpr const char* kParams = "params";
// Algorithm tensors (a control variate, say) travel as "tensor/<name>" beside the model.
constexpr std::string_view kNamedTensor = "tensor/";
// More dimensions than any model's tensor has: a header beyond it is malformed.
constexpr int kMaxTensorRank = 8;

void appendTensor(WireMessage& wire, const std::string& name, const torch::Tensor& tensor) {
  if (!tensor.defined()) return;
  wire::TensorSpec* spec = wire.header.add_tensors();
  spec->set_name(name);
  for (std::int64_t size : tensor.sizes()) spec->add_shape(size);
  wire.payload.append(parameterBytes(tensor));
}

// The payload's tensors by name, after checking that the header describes exactly the payload.
NamedTensors readTensors(const WireMessage& wire) {
  NamedTensors tensors;
  std::size_t offset = 0;
  for (const wire::TensorSpec& spec : wire.header.tensors()) {
    const std::string name = excerpt(spec.name());
    if (spec.shape_size() > kMaxTensorRank)
      throw Error("tensor '{}' has {} dimensions; at most {} are allowed", name, spec.shape_size(), kMaxTensorRank);
    std::vector<std::int64_t> shape(spec.shape().begin(), spec.shape().end());
    // Counted against the bytes that actually remain, so that no product can overflow.
    const std::size_t remaining = (wire.payload.size() - offset) / sizeof(float);
    const auto tooLarge = [&] {
      return Error("tensor '{}' of shape [{}] is larger than the {} bytes of payload left", name,
                   excerpt(fmt::format("{}", fmt::join(shape, ", "))), wire.payload.size() - offset);
    };
    std::size_t count = 1;
    bool empty = false;
    for (std::int64_t size : shape) {
      if (size < 0) throw Error("tensor '{}' has a negative dimension ({})", name, size);
      empty = empty || size == 0;
      if (!empty && count > remaining / static_cast<std::size_t>(size)) throw tooLarge();
      if (!empty) count *= static_cast<std::size_t>(size);
    }
    if (empty) count = 0;
    // A scalar (no dimensions) holds one value, which the loop above never compared.
    if (count > remaining) throw tooLarge();
    const std::size_t bytes = count * sizeof(float);
    if (tensors.count(spec.name())) throw Error("tensor '{}' appears twice", name);
    torch::Tensor tensor = torch::empty(shape, torch::kFloat32);
    std::memcpy(tensor.data_ptr(), wire.payload.data() + offset, bytes);
    tensors[spec.name()] = tensor;
    offset += bytes;
  }
  if (offset != wire.payload.size())
    throw Error("the header describes {} bytes of tensors but {} arrived", offset, wire.payload.size());
  return tensors;
}

}  // namespace

std::string parameterBytes(const torch::Tensor& tensor) {
  const torch::Tensor values = tensor.to(torch::kFloat32).contiguous();
  return std::string(static_cast<const char*>(values.data_ptr()), static_cast<std::size_t>(values.nbytes()));
}

WireMessage encodeRound(const ServerMessage& message) {
  WireMessage wire;
  wire.header.set_work(wire::TRAIN);
  wire.header.set_round(message.round);
  wire.header.set_evaluate(message.evaluate);
  for (const auto& [name, value] : message.settings) (*wire.header.mutable_numbers())[name] = value;
  appendTensor(wire, kGlobal, message.global);
  for (const auto& [name, tensor] : message.tensors) appendTensor(wire, std::string(kNamedTensor) + name, tensor);
  wire.header.set_payload_bytes(static_cast<std::int64_t>(wire.payload.size()));
  return wire;
}

ServerMessage decodeRound(const WireMessage& wire) {
  ServerMessage message;
  message.round = wire.header.round();
  message.evaluate = wire.header.evaluate();
  for (const auto& [name, value] : wire.header.numbers()) message.settings[name] = value;
  for (auto& [name, tensor] : readTensors(wire)) {
    if (name == kGlobal) {
      message.global = tensor;
    } else if (name.rfind(kNamedTensor, 0) == 0) {
      message.tensors[name.substr(kNamedTensor.size())] = tensor;
    }
  }
  if (!message.global.defined()) throw Error("the server's round message carries no global model");
  return message;
}

WireMessage encodeUpdate(const ClientUpdate& update, const std::string& client_id) {
  WireMessage wire;
  wire.header.set_client_id(client_id);
  wire.header.set_round(update.round);
  wire.header.set_num_samples(update.num_samples);
  for (const auto& [name, value] : update.metrics) (*wire.header.mutable_numbers())[name] = value;
  appendTensor(wire, kParams, update.params);
  for (const auto& [name, tensor] : update.tensors) appendTensor(wire, std::string(kNamedTensor) + name, tensor);
  wire.header.set_payload_bytes(static_cast<std::int64_t>(wire.payload.size()));
  return wire;
}

ClientUpdate decodeUpdate(const WireMessage& wire, std::int64_t client_index) {
  ClientUpdate update;
  update.client = client_index;
  update.round = wire.header.round();
  update.num_samples = wire.header.num_samples();
  if (update.num_samples < 0) throw Error("num_samples is negative ({})", update.num_samples);
  for (const auto& [name, value] : wire.header.numbers()) update.metrics[name] = value;
  for (auto& [name, tensor] : readTensors(wire)) {
    if (name == kParams) {
      update.params = tensor;
    } else if (name.rfind(kNamedTensor, 0) == 0) {
      update.tensors[name.substr(kNamedTensor.size())] = tensor;
    } else {
      throw Error("unknown tensor '{}' (expected 'params' or 'tensor/<name>')", excerpt(name));
    }
  }
  return update;
}

void ChunkAssembler::add(const wire::Chunk& chunk) {
  if (chunk.has_header()) {
    if (has_header_) throw Error("a second header arrived in the same stream");
    const std::int64_t declared = chunk.header().payload_bytes();
    if (declared < 0) throw Error("the header declares a negative payload ({} bytes)", declared);
    if (declared > max_payload_bytes_)
      throw Error("the message declares {:.1f} MiB, over the limit of {:.1f} MiB (deploy.max_update_mb)",
                  static_cast<double>(declared) / (1 << 20), static_cast<double>(max_payload_bytes_) / (1 << 20));
    message_.header = chunk.header();
    has_header_ = true;
    return;
  }
  if (!has_header_) throw Error("data arrived before the header");
  const std::string& data = chunk.data();
  if (bytesReceived() + static_cast<std::int64_t>(data.size()) > message_.header.payload_bytes())
    throw Error("more data arrived than the {} bytes the header declares", message_.header.payload_bytes());
  message_.payload.append(data);
}

WireMessage ChunkAssembler::finish() {
  if (!has_header_) throw Error("the stream ended before its header");
  if (bytesReceived() != message_.header.payload_bytes())
    throw Error("truncated stream: {} of the {} declared bytes arrived", bytesReceived(),
                message_.header.payload_bytes());
  return std::move(message_);
}

}  // namespace pagefl::net
