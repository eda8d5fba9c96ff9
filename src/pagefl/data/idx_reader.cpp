#include "pagefl/data/idx_reader.h"

#include <torch/torch.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
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

namespace {

// An IDX file opened past its header.
struct OpenedIdx {
  GzFile file;
  std::vector<std::int64_t> dims;
  std::int64_t count = 0;  // values the header promises
};

OpenedIdx openIdx(const std::string& path) {
  if (std::filesystem::is_directory(path)) throw Error("IDX file '{}' is a directory; it must be a file", path);
  if (!std::filesystem::is_regular_file(path)) throw Error("IDX file '{}' does not exist", path);
  OpenedIdx opened{GzFile(gzopen(path.c_str(), "rb")), {}, 1};
  if (!opened.file) throw Error("cannot open IDX file '{}'", path);
  gzFile file = opened.file.get();

  std::uint8_t header[4];
  if (readUpTo(file, header, 4, path) != 4) throw Error("'{}' is truncated: it has no complete IDX header", path);
  if (header[0] != 0 || header[1] != 0)
    throw Error("'{}' is not an IDX file: its magic number must start with two zero bytes", path);
  if (header[2] != kUnsignedByte)
    throw Error("'{}' holds IDX type 0x{:02X}; pagefl reads unsigned-byte IDX files (type 0x08), as MNIST ships",
                path, header[2]);
  const int rank = header[3];
  if (rank < 1 || rank > 4) throw Error("'{}' declares {} dimensions; IDX data here has 1 to 4", path, rank);
  for (int d = 0; d < rank; ++d) {
    std::uint8_t bytes[4];
    if (readUpTo(file, bytes, 4, path) != 4) throw Error("'{}' is truncated inside its IDX header", path);
    std::int64_t size = (std::int64_t{bytes[0]} << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3];
    opened.dims.push_back(size);
    opened.count *= std::max<std::int64_t>(size, 1);
    if (opened.count > kMaxElements) throw Error("'{}' declares an implausibly large IDX array", path);
  }
  for (std::int64_t size : opened.dims) opened.count = size == 0 ? 0 : opened.count;
  return opened;
}

void requireEnd(OpenedIdx& opened, const std::string& path) {
  char extra;
  if (readUpTo(opened.file.get(), &extra, 1, path) != 0)
    throw Error("'{}' has bytes after the {} values its header promises: the file is corrupt", path, opened.count);
}

// Every value, read in pieces, so that memory follows the bytes really there and not what the
// header claims.
std::vector<std::uint8_t> readAllValues(OpenedIdx& opened, const std::string& path) {
  std::vector<std::uint8_t> values;
  const auto expected = static_cast<std::size_t>(opened.count);
  std::size_t got = 0;
  while (got < expected) {
    const std::size_t piece = std::min(expected - got, std::max(kFirstPiece, got));  // doubling
    values.resize(got + piece);
    const std::size_t read = readUpTo(opened.file.get(), values.data() + got, piece, path);
    got += read;
    if (read < piece) break;
  }
  if (got != expected)
    throw Error("'{}' is truncated: its header promises {} values but it holds {}", path, opened.count, got);
  return values;
}

// Reads the next `bytes` bytes onto the end of `into`, or past them when `into` is null, in pieces,
// so that memory follows the bytes really there and not what a header claims. Returns how many
// were there.
std::size_t readOrSkip(OpenedIdx& opened, std::vector<std::uint8_t>* into, std::size_t bytes, const std::string& path) {
  static thread_local std::vector<std::uint8_t> skipped(kFirstPiece);
  std::size_t done = 0;
  while (done < bytes) {
    const std::size_t piece = std::min(bytes - done, kFirstPiece);
    std::uint8_t* target = skipped.data();
    if (into) {
      into->resize(into->size() + piece);
      target = into->data() + into->size() - piece;
    }
    const std::size_t read = readUpTo(opened.file.get(), target, piece, path);
    if (into) into->resize(into->size() - (piece - read));
    done += read;
    if (read < piece) break;
  }
  return done;
}

// The values of the items at `items` (ascending, distinct) only; the rest are read past.
std::vector<std::uint8_t> readItemValues(OpenedIdx& opened, const std::vector<std::int64_t>& items,
                                         const std::string& path) {
  const std::int64_t item_count = opened.dims[0];
  for (std::size_t i = 0; i < items.size(); ++i)
    if (items[i] < 0 || items[i] >= item_count || (i > 0 && items[i] <= items[i - 1]))
      throw Error("'{}': item {} asked for is not one of its {} items in ascending order", path, items[i], item_count);
  const auto item_size = static_cast<std::size_t>(item_count == 0 ? 0 : opened.count / item_count);
  std::vector<std::uint8_t> values;
  if (item_size == 0) return values;  // empty items: nothing to read, however many are claimed
  std::size_t next = 0;
  for (std::int64_t item = 0; item < item_count; ++item) {
    const bool kept = next < items.size() && items[next] == item;
    const std::size_t read = readOrSkip(opened, kept ? &values : nullptr, item_size, path);
    if (read != item_size)
      throw Error("'{}' is truncated: its header promises {} values but it holds {}", path, opened.count,
                  static_cast<std::size_t>(item) * item_size + read);
    next += kept ? 1 : 0;
  }
  return values;
}

}  // namespace

IdxArray readIdx(const std::string& path, const std::vector<std::int64_t>* items) {
  OpenedIdx opened = openIdx(path);
  IdxArray array;
  array.dims = opened.dims;
  array.values = items ? readItemValues(opened, *items, path) : readAllValues(opened, path);
  if (items) array.dims[0] = static_cast<std::int64_t>(items->size());
  requireEnd(opened, path);
  return array;
}

std::vector<std::int64_t> readIdxDims(const std::string& path) { return openIdx(path).dims; }

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

namespace {

// Checks that the images file holds images that the labels file labels one by one.
void requireLabelledImages(const std::string& images_path, const std::vector<std::int64_t>& images,
                           const std::string& labels_path, const std::vector<std::int64_t>& label_dims) {
  if (images.size() != 3)
    throw Error("'{}' must hold images as [count, rows, cols]; it has {} dimensions", images_path, images.size());
  if (label_dims.size() != 1)
    throw Error("'{}' must hold labels as [count]; it has {} dimensions", labels_path, label_dims.size());
  if (images[0] != label_dims[0])
    throw Error("'{}' has {} images but '{}' has {} labels: the files do not belong together", images_path, images[0],
                labels_path, label_dims[0]);
  if (images[1] == 0 || images[2] == 0)
    throw Error("'{}' holds images of {} x {} pixels; every image needs at least one pixel", images_path, images[1],
                images[2]);
}

// Whether the file's length is what its header promises: the file's own length when raw, the
// length gzip records in its trailer (modulo 2^32, of the last member) when gzipped. Cheap; false
// means only that the file must be read through to know.
bool lengthMatchesHeader(const std::string& path, const std::vector<std::int64_t>& dims) {
  std::uint64_t expected = 4 + 4 * dims.size();
  std::uint64_t values = 1;
  for (std::int64_t size : dims) values *= static_cast<std::uint64_t>(size);
  expected += values;
  std::ifstream in(path, std::ios::binary);
  unsigned char magic[2] = {0, 0}, trailer[4] = {0, 0, 0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  in.seekg(0, std::ios::end);
  const auto length = static_cast<std::uint64_t>(in.tellg());
  if (!in) return false;
  if (magic[0] != 0x1f || magic[1] != 0x8b) return length == expected;
  if (length < 18) return false;  // shorter than any gzip member
  in.seekg(-4, std::ios::end);
  in.read(reinterpret_cast<char*>(trailer), 4);
  const std::uint32_t recorded =
      trailer[0] | (trailer[1] << 8) | (trailer[2] << 16) | (static_cast<std::uint32_t>(trailer[3]) << 24);
  return in && recorded == static_cast<std::uint32_t>(expected);
}

}  // namespace

torch::Tensor readIdxLabels(const std::string& labels_path, const std::string& images_path) {
  // The images file first, so that errors name it first; when its length does not match its
  // header it is read through at once (nothing kept), so that a damaged file is reported as such
  // before a partition is drawn from the labels.
  const std::vector<std::int64_t> images = readIdxDims(images_path);
  const std::vector<std::int64_t> nothing;
  if (!lengthMatchesHeader(images_path, images)) readIdx(images_path, &nothing);
  IdxArray labels = readIdx(labels_path);
  requireLabelledImages(images_path, images, labels_path, labels.dims);
  return torch::from_blob(labels.values.data(), {labels.dims[0]}, torch::kUInt8).to(torch::kInt64);
}

torch::Tensor readIdxImages(const std::string& images_path, const std::vector<std::int64_t>* items) {
  IdxArray images = readIdx(images_path, items);
  if (images.dims.size() != 3)
    throw Error("'{}' must hold images as [count, rows, cols]; it has {} dimensions", images_path, images.dims.size());
  return torch::from_blob(images.values.data(), {images.dims[0], 1, images.dims[1], images.dims[2]}, torch::kUInt8)
      .to(torch::kFloat32)
      .div_(255.0f);
}

Dataset readIdxImagesAndLabels(const std::string& images_path, const std::string& labels_path) {
  torch::Tensor labels = readIdxLabels(labels_path, images_path);
  return {readIdxImages(images_path), labels};
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
