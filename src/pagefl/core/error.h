// The one exception type pagefl throws for anything a user can fix: bad config, bad data, bad input.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace pagefl {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}

  template <typename... Args>
  Error(fmt::format_string<Args...> format, Args&&... args)
      : std::runtime_error(fmt::format(format, std::forward<Args>(args)...)) {}
};

}  // namespace pagefl
