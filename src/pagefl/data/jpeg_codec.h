// JPEG decoding and encoding of 8-bit RGB images through libjpeg-turbo's TurboJPEG API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pagefl {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // height x width x 3, row-major
};

// Decodes a JPEG file's bytes; greyscale and CMYK files are converted to RGB. `name` only labels
// errors.
RgbImage decodeJpeg(const std::vector<std::uint8_t>& bytes, const std::string& name);

// Encodes at the given quality (1-100). Tests use it to write datasets in their standard format.
std::vector<std::uint8_t> encodeJpeg(const RgbImage& image, int quality = 95);

}  // namespace pagefl
