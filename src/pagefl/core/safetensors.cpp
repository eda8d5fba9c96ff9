#include "pagefl/core/safetensors.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "pagefl/core/error.h"

namespace pagefl::safetensors {
namespace {

// __BYTE_ORDER__ rather than std::endian: the fuzz build compiles this file as C++17.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors stores little-endian values");

constexpr std::size_t kLengthBytes = 8;
// The reference implementation's bound: no real header comes near it.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
// More dimensions than any model's tensor has: a header beyond it is malformed.
constexpr std::size_t kMaxRank = 8;
constexpr const char* kMetadataKey = "__metadata__";

struct DtypeName {
  torch::ScalarType type;
  const char* name;
};
constexpr DtypeName kDtypes[] = {
    {torch::kFloat64, "F64"}, {torch::kFloat32, "F32"}, {torch::kFloat16, "F16"}, {torch::kBFloat16, "BF16"},
    {torch::kInt64, "I64"},   {torch::kInt32, "I32"},   {torch::kInt16, "I16"},   {torch::kInt8, "I8"},
    {torch::kUInt8, "U8"},    {torch::kBool, "BOOL"},
};

const char* dtypeName(torch::ScalarType type, const std::string& tensor) {
  for (const DtypeName& dtype : kDtypes)
    if (dtype.type == type) return dtype.name;
  throw Error("tensor '{}' has dtype {}, which pagefl does not store in safetensors", excerpt(tensor),
              c10::toString(type));
}

std::optional<torch::ScalarType> dtypeNamed(const std::string& name) {
  for (const DtypeName& dtype : kDtypes)
    if (name == dtype.name) return dtype.type;
  return std::nullopt;
}

template <typename... Args>
[[noreturn]] void refuse(const std::string& what, fmt::format_string<Args...> format, Args&&... args) {
  throw Error("{} is not a valid safetensors file: {}", what, fmt::format(format, std::forward<Args>(args)...));
}

// One tensor of the header, checked against the data that follows it.
struct Entry {
  std::string name;
  torch::ScalarType type;
  std::vector<std::int64_t> shape;
  std::uint64_t begin, end;
};

class HeaderReader {
 public:
  HeaderReader(const std::string& what, std::uint64_t data_bytes) : what_(what), data_bytes_(data_bytes) {}

  Entry entry(const std::string& name, const nlohmann::json& spec) const {
    const std::string shown = excerpt(name);
    if (!spec.is_object() || !spec.contains("dtype") || !spec.contains("shape") || !spec.contains("data_offsets"))
      fail("tensor '{}' needs \"dtype\", \"shape\" and \"data_offsets\"", shown);
    const nlohmann::json &dtype = spec["dtype"], &shape = spec["shape"], &offsets = spec["data_offsets"];
    const std::optional<torch::ScalarType> type =
        dtype.is_string() ? dtypeNamed(dtype.get<std::string>()) : std::nullopt;
    if (!type)
      fail("tensor '{}' has dtype {}; pagefl reads F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL", shown,
           excerpt(dtype.dump()));
    if (!shape.is_array() || shape.size() > kMaxRank)
      fail("tensor '{}' has shape {}; a shape is a list of at most {} sizes", shown, excerpt(shape.dump()), kMaxRank);
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      fail("tensor '{}' has data_offsets {}; they are two byte positions [begin, end]", shown, excerpt(offsets.dump()));
    Entry entry{name, *type, {}, offsets[0].get<std::uint64_t>(), offsets[1].get<std::uint64_t>()};
    if (entry.begin > entry.end || entry.end > data_bytes_)
      fail("tensor '{}' claims bytes {} to {} of the {} bytes of data", shown, entry.begin, entry.end, data_bytes_);
    // Counted against the bytes that actually remain, so that no product can overflow.
    const std::uint64_t element_bytes = c10::elementSize(*type);
    const std::uint64_t available = (entry.end - entry.begin) / element_bytes;
    std::uint64_t count = 1;
    for (const nlohmann::json& size : shape) {
      if (!size.is_number_unsigned()) fail("tensor '{}' has shape {}", shown, excerpt(shape.dump()));
      const std::uint64_t extent = size.get<std::uint64_t>();
      if (extent != 0 && count > available / extent)
        fail("tensor '{}' of shape {} is larger than its {} bytes", shown, excerpt(shape.dump()),
             entry.end - entry.begin);
      count *= extent;
      entry.shape.push_back(static_cast<std::int64_t>(extent));
    }
    if (count * element_bytes != entry.end - entry.begin)
      fail("tensor '{}' of shape {} and dtype {} needs {} bytes, its data_offsets give {}", shown,
           excerpt(shape.dump()), dtype.get<std::string>(), count * element_bytes, entry.end - entry.begin);
    return entry;
  }

  Metadata metadata(const nlohmann::json& spec) const {
    if (!spec.is_object()) fail("the header's __metadata__ is not an object of strings");
    Metadata metadata;
    for (const auto& [key, value] : spec.items()) {
      if (!value.is_string()) fail("the header's __metadata__ '{}' is not a string", excerpt(key));
      metadata[key] = value.get<std::string>();
    }
    return metadata;
  }

  // The format has no holes and no overlaps: sorted by position, the ranges tile the data.
  void requireTiling(std::vector<Entry>& entries) const {
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return std::make_pair(a.begin, a.end) < std::make_pair(b.begin, b.end);
    });
    std::uint64_t at = 0;
    for (const Entry& entry : entries) {
      if (entry.begin != at)
        fail(
            "tensor '{}' starts at byte {} of the data, not at {}: byte ranges must follow each other without gaps "
            "or overlaps",
            excerpt(entry.name), entry.begin, at);
      at = entry.end;
    }
    if (at != data_bytes_) fail("the tensors cover {} of the {} bytes of data", at, data_bytes_);
  }

  // A BOOL tensor whose bytes are not 0 or 1 would hold values C++ cannot represent.
  void requireBooleans(const Entry& entry, std::string_view data) const {
    if (entry.type != torch::kBool) return;
    for (std::uint64_t i = entry.begin; i < entry.end; ++i)
      if (static_cast<unsigned char>(data[i]) > 1)
        fail("BOOL tensor '{}' holds a byte other than 0 or 1", excerpt(entry.name));
  }

 private:
  template <typename... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) const {
    refuse(what_, format, std::forward<Args>(args)...);
  }

  const std::string& what_;
  std::uint64_t data_bytes_;
};

}  // namespace

std::string encode(const Tensors& tensors, const Metadata& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::vector<torch::Tensor> contiguous;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (!tensor.defined()) continue;
    if (name == kMetadataKey) throw Error("a tensor may not be named {}", kMetadataKey);
    const torch::Tensor values = tensor.cpu().contiguous();
    const std::uint64_t bytes = values.nbytes();
    header[name] = {{"dtype", dtypeName(values.scalar_type(), name)},
                    {"shape", values.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    contiguous.push_back(values);
  }
  std::string text = header.dump();
  // Padded with spaces to a multiple of 8, as the reference writer does, so that the data is aligned.
  text.append((kLengthBytes - text.size() % kLengthBytes) % kLengthBytes, ' ');
  std::string out(kLengthBytes, '\0');
  const std::uint64_t length = text.size();
  std::memcpy(out.data(), &length, kLengthBytes);
  out.reserve(kLengthBytes + text.size() + offset);
  out += text;
  for (const torch::Tensor& values : contiguous)
    out.append(static_cast<const char*>(values.data_ptr()), static_cast<std::size_t>(values.nbytes()));
  return out;
}

Contents decode(std::string_view bytes, const std::string& what) {
  if (bytes.size() < kLengthBytes) refuse(what, "{} bytes, shorter than the 8-byte header length", bytes.size());
  std::uint64_t length = 0;
  std::memcpy(&length, bytes.data(), kLengthBytes);
  const std::uint64_t after = bytes.size() - kLengthBytes;
  if (length > after || length > kMaxHeaderBytes)
    refuse(what, "the header claims {} bytes, but {} follow (at most {} are allowed)", length, after, kMaxHeaderBytes);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(kLengthBytes, length));
  } catch (const nlohmann::json::exception& e) {
    refuse(what, "the header is not JSON ({})", excerpt(e.what()));
  }
  if (!header.is_object()) refuse(what, "the header is not a JSON object");

  const std::string_view data = bytes.substr(kLengthBytes + length);
  const HeaderReader reader(what, data.size());
  Contents contents;
  std::vector<Entry> entries;
  for (const auto& [name, spec] : header.items()) {
    if (name == kMetadataKey) {
      contents.metadata = reader.metadata(spec);
    } else {
      entries.push_back(reader.entry(name, spec));
    }
  }
  reader.requireTiling(entries);
  for (const Entry& entry : entries) {
    reader.requireBooleans(entry, data);
    torch::Tensor tensor = torch::empty(entry.shape, torch::TensorOptions().dtype(entry.type));
    if (entry.end > entry.begin) std::memcpy(tensor.data_ptr(), data.data() + entry.begin, entry.end - entry.begin);
    contents.tensors[entry.name] = std::move(tensor);
  }
  return contents;
}

}  // namespace pagefl::safetensors
