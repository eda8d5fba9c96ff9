#include "pagefl/data/idx_reader.h"

#include <torch/torch.h>
#include <zlib.h>

#include <filesystem>
#include <memory>

#include "pagefl/core/error.h"

namespace pagefl {
namespace {

constexpr std::uint8_t kUnsignedByte = 0x08;
constexpr std::int64_t kMaxElements = std::int64_t{1} << 34;
constexpr std::size_t kFirstPiece = std::size_t{1} << 20;

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Reads exactly `size` bytes, or returns how many were available.
std::size_t readUpTo(gzFile file, void* buffer, std::size_t size, const std::string& path) {
  std::size_t total = 0;
  auto* out = static_cast<char*>(buffer);
  while (total < size) {
    unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(size - total, 1u << 30));
    int got = gzread(file, out + total, chunk);
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file, &code);
      throw Error("'{}' is corrupt: {} (re-download or re-extract the file)", path, message);
    }
    if (got == 0) break;
    total += static_cast<std::size_t>(got);
  }
  return total;
}

}  // namespace

IdxArray readIdx(const std::string& path) {
  if (std::filesystem::is_directory(path)) throw Error("IDX file '{}' is a directory; it must be a file", path);
  if (!std::filesystem::is_regular_file(path)) throw Error("IDX file '{}' does not exist", path);
  GzFile file(gzopen(path.c_str(), "rb"));
  if (!file) throw Error("cannot open IDX file '{}'", path);

  std::uint8_t header[4];
  if (readUpTo(file.get(), header, 4, path) != 4) throw Error("'{}' is truncated: it has no complete IDX header", path);
  if (header[0] != 0 || header[1] != 0)
    throw Error("'{}' is not an IDX file: its magic number must start with two zero bytes", path);
  if (header[2] != kUnsignedByte)
    throw Error("'{}' holds IDX type 0x{:02X}; pagefl reads unsigned-byte IDX files (type 0x08), as MNIST ships",
                path, header[2]);
  const int rank = header[3];
  if (rank < 1 || rank > 4) throw Error("'{}' declares {} dimensions; IDX data here has 1 to 4", path, rank);

  IdxArray array;
  std::int64_t count = 1;
  for (int d = 0; d < rank; ++d) {
    std::uint8_t bytes[4];
    if (readUpTo(file.get(), bytes, 4, path) != 4) throw Error("'{}' is truncated inside its IDX header", path);
    std::int64_t size = (std::int64_t{bytes[0]} << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3];
    array.dims.push_back(size);
    count *= std::max<std::int64_t>(size, 1);
    if (count > kMaxElements) throw Error("'{}' declares an implausibly large IDX array", path);
  }
  for (std::int64_t size : array.dims) count = size == 0 ? 0 : count;

  // Read in pieces, so that memory follows the bytes really there and not what the header claims.
  const auto expected = static_cast<std::size_t>(count);
  std::size_t got = 0;
  while (got < expected) {
    const std::size_t piece = std::min(expected - got, std::max(kFirstPiece, got));  // doubling
    array.values.resize(got + piece);
    const std::size_t read = readUpTo(file.get(), array.values.data() + got, piece, path);
    got += read;
    if (read < piece) break;
  }
  if (got != expected)
    throw Error("'{}' is truncated: its header promises {} values but it holds {}", path, count, got);
  char extra;
  if (readUpTo(file.get(), &extra, 1, path) != 0)
    throw Error("'{}' has bytes after the {} values its header promises: the file is corrupt", path, count);
  return array;
}

void writeIdx(const std::string& path, const IdxArray& array, bool gzip) {
  GzFile file(gzopen(path.c_str(), gzip ? "wb" : "wbT"));
  if (!file) throw Error("cannot write IDX file '{}'", path);
  std::vector<std::uint8_t> header = {0, 0, kUnsignedByte, static_cast<std::uint8_t>(array.dims.size())};
  for (std::int64_t size : array.dims)
    for (int shift : {24, 16, 8, 0}) header.push_back(static_cast<std::uint8_t>(size >> shift));
  if (gzwrite(file.get(), header.data(), header.size()) != static_cast<int>(header.size()) ||
      (!array.values.empty() &&
       gzwrite(file.get(), array.values.data(), array.values.size()) != static_cast<int>(array.values.size())))
    throw Error("failed writing IDX file '{}'", path);
}

Dataset readIdxImagesAndLabels(const std::string& images_path, const std::string& labels_path) {
  IdxArray images = readIdx(images_path);
  IdxArray labels = readIdx(labels_path);
  if (images.dims.size() != 3)
    throw Error("'{}' must hold images as [count, rows, cols]; it has {} dimensions", images_path, images.dims.size());
  if (labels.dims.size() != 1)
    throw Error("'{}' must hold labels as [count]; it has {} dimensions", labels_path, labels.dims.size());
  if (images.dims[0] != labels.dims[0])
    throw Error("'{}' has {} images but '{}' has {} labels: the files do not belong together", images_path,
                images.dims[0], labels_path, labels.dims[0]);

  if (images.dims[1] == 0 || images.dims[2] == 0)
    throw Error("'{}' holds images of {} x {} pixels; every image needs at least one pixel", images_path,
                images.dims[1], images.dims[2]);
  const std::int64_t n = images.dims[0];
  auto x = torch::from_blob(images.values.data(), {n, 1, images.dims[1], images.dims[2]}, torch::kUInt8)
               .to(torch::kFloat32)
               .div_(255.0f);
  auto y = torch::from_blob(labels.values.data(), {n}, torch::kUInt8).to(torch::kInt64);
  return {x, y};
}

std::string findIdxFile(const std::string& directory, const std::string& name) {
  std::filesystem::path base = std::filesystem::path(directory) / name;
  if (std::filesystem::exists(base)) return base.string();
  std::filesystem::path gz = base.string() + ".gz";
  if (std::filesystem::exists(gz)) return gz.string();
  throw Error("missing data file: neither '{}' nor '{}' exists (set data.path to the directory holding it)",
              base.string(), gz.string());
}

}  // namespace pagefl
