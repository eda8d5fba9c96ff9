#include "pagefl/net/personal_model_report.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include "pagefl/core/error.h"

namespace pagefl::net {
namespace {

// The hash travels as its 32 bytes in a float32 tensor (the wire's tensor type; every byte value is
// exact in it), the size as a number (exact to 2^53).
constexpr const char* kHashTensor = "site.personal_model_sha256";
constexpr const char* kSizeMetric = "site.personal_model_bytes";
constexpr std::int64_t kHashBytes = 32;
constexpr double kMaxModelBytes = 1e12;

}  // namespace

void attachPersonalModelReport(ClientUpdate& update, const PersonalModelReport& report) {
  if (report.sha256.size() != 2 * kHashBytes) throw Error("a SHA-256 has 64 hex digits, not {}", report.sha256.size());
  torch::Tensor bytes = torch::empty({kHashBytes}, torch::kFloat32);
  for (std::int64_t i = 0; i < kHashBytes; ++i)
    bytes[i] = static_cast<float>(std::stoi(report.sha256.substr(static_cast<std::size_t>(2 * i), 2), nullptr, 16));
  update.tensors[kHashTensor] = bytes;
  update.metrics[kSizeMetric] = static_cast<double>(report.bytes);
}

std::optional<PersonalModelReport> takePersonalModelReport(ClientUpdate& update) {
  auto hash = update.tensors.find(kHashTensor);
  auto size = update.metrics.find(kSizeMetric);
  if (hash == update.tensors.end() && size == update.metrics.end()) return std::nullopt;
  if (hash == update.tensors.end() || size == update.metrics.end())
    throw Error("the update reports its site's personalised model only in part ({} without {})",
                hash == update.tensors.end() ? kSizeMetric : kHashTensor,
                hash == update.tensors.end() ? kHashTensor : kSizeMetric);
  const torch::Tensor values = hash->second.to(torch::kFloat32).contiguous();
  if (values.dim() != 1 || values.numel() != kHashBytes)
    throw Error("the update's {} holds {} values, not the {} bytes of a SHA-256", kHashTensor, values.numel(),
                kHashBytes);
  PersonalModelReport report;
  const float* byte = values.data_ptr<float>();
  for (std::int64_t i = 0; i < kHashBytes; ++i) {
    if (!(byte[i] >= 0 && byte[i] <= 255 && byte[i] == static_cast<float>(static_cast<int>(byte[i]))))
      throw Error("the update's {} holds {}, not a byte", kHashTensor, byte[i]);
    report.sha256 += fmt::format("{:02x}", static_cast<int>(byte[i]));
  }
  if (!(size->second >= 0 && size->second <= kMaxModelBytes &&
        size->second == static_cast<double>(static_cast<std::int64_t>(size->second))))
    throw Error("the update's {} is {}, not a file size", kSizeMetric, size->second);
  report.bytes = static_cast<std::int64_t>(size->second);
  update.tensors.erase(hash);
  update.metrics.erase(size);
  return report;
}

}  // namespace pagefl::net
