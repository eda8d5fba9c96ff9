#include "pagefl/data/jpeg_codec.h"

#include <turbojpeg.h>

#include <algorithm>
#include <memory>

#include "pagefl/core/error.h"

namespace pagefl {
namespace {

struct HandleCloser {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, HandleCloser>;

constexpr std::int64_t kMaxPixels = std::int64_t{1} << 26;  // 67 megapixels, 200 MB decoded
constexpr std::int64_t kMinPixelBudget = std::int64_t{1} << 16;
constexpr std::int64_t kPixelsPerByte = 1024;

}  // namespace

RgbImage decodeJpeg(const std::vector<std::uint8_t>& bytes, const std::string& name) {
  TjHandle handle(tjInitDecompress());
  if (!handle) throw Error("cannot start the JPEG decoder: {}", tjGetErrorStr2(nullptr));
  RgbImage image;
  int subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(handle.get(), bytes.data(), static_cast<unsigned long>(bytes.size()), &image.width,
                          &image.height, &subsampling, &colorspace) != 0)
    throw Error("'{}' is not a readable JPEG file: {}", name, tjGetErrorStr2(handle.get()));
  // The header's size is checked against what the file could hold before anything is allocated:
  // even a flat image compresses to well over a byte per thousand pixels.
  const auto pixels = static_cast<std::int64_t>(image.width) * image.height;
  if (image.width <= 0 || image.height <= 0 || pixels > kMaxPixels ||
      pixels > std::max<std::int64_t>(kMinPixelBudget, kPixelsPerByte * static_cast<std::int64_t>(bytes.size())))
    throw Error("'{}' claims {} x {} pixels, implausible for a JPEG file of {} bytes", name, image.width, image.height,
                bytes.size());
  image.pixels.resize(static_cast<std::size_t>(pixels) * 3);
  if (tjDecompress2(handle.get(), bytes.data(), static_cast<unsigned long>(bytes.size()), image.pixels.data(),
                    image.width, 0, image.height, TJPF_RGB, 0) != 0)
    // Warnings too (a truncated file decodes to grey rows): a silently damaged image is worse
    // than a clear stop.
    throw Error("'{}' is a damaged JPEG file: {}", name, tjGetErrorStr2(handle.get()));
  return image;
}

std::vector<std::uint8_t> encodeJpeg(const RgbImage& image, int quality) {
  TjHandle handle(tjInitCompress());
  if (!handle) throw Error("cannot start the JPEG encoder: {}", tjGetErrorStr2(nullptr));
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  if (tjCompress2(handle.get(), image.pixels.data(), image.width, 0, image.height, TJPF_RGB, &buffer, &size, TJSAMP_444,
                  quality, 0) != 0)
    throw Error("cannot encode a {}x{} JPEG image: {}", image.width, image.height, tjGetErrorStr2(handle.get()));
  std::vector<std::uint8_t> bytes(buffer, buffer + size);
  tjFree(buffer);
  return bytes;
}

}  // namespace pagefl
