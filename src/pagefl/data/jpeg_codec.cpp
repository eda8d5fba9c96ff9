#include "pagefl/data/jpeg_codec.h"

#include <turbojpeg.h>

#include <memory>

#include "pagefl/core/error.h"

namespace pagefl {
namespace {

struct HandleCloser {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, HandleCloser>;

}  // namespace

RgbImage decodeJpeg(const std::vector<std::uint8_t>& bytes, const std::string& name) {
  TjHandle handle(tjInitDecompress());
  if (!handle) throw Error("cannot start the JPEG decoder: {}", tjGetErrorStr2(nullptr));
  RgbImage image;
  int subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(handle.get(), bytes.data(), static_cast<unsigned long>(bytes.size()), &image.width,
                          &image.height, &subsampling, &colorspace) != 0)
    throw Error("'{}' is not a readable JPEG file: {}", name, tjGetErrorStr2(handle.get()));
  image.pixels.resize(static_cast<std::size_t>(image.width) * image.height * 3);
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
