// The TOML config reader with its schema (types, ranges, choices, unknown keys, page.variant).
#include <string>

#include "fuzz_support.h"
#include "pagefl/core/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // `extends` would read other files: the harness judges this text alone.
  if (text.find("extends") != std::string::npos) return 0;
  pagefl::fuzz::refusedOnlyWithErrors([&] { pagefl::toToml(pagefl::parseConfig(text, {}, "fuzz.toml")); });
  return 0;
}
