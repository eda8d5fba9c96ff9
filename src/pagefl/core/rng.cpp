#include "pagefl/core/rng.h"

#include <ATen/CPUGeneratorImpl.h>

namespace pagefl {
namespace {

// SplitMix64 finaliser: a strong 64-bit mix, so nearby keys give unrelated seeds.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace

std::uint64_t RngStreams::derive(Purpose purpose, std::int64_t round, std::int64_t client) const {
  std::uint64_t h = mix(seed_);
  h = mix(h ^ static_cast<std::uint64_t>(purpose));
  h = mix(h ^ static_cast<std::uint64_t>(round));
  h = mix(h ^ static_cast<std::uint64_t>(client));
  return h;
}

at::Generator RngStreams::torchGenerator(Purpose purpose, std::int64_t round, std::int64_t client) const {
  return at::make_generator<at::CPUGeneratorImpl>(derive(purpose, round, client));
}

}  // namespace pagefl
