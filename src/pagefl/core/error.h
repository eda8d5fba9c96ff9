// The one exception type pagefl throws for anything a user can fix: bad config, bad data, bad input.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace pagefl {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}

  template <typename... Args>
  Error(fmt::format_string<Args...> format, Args&&... args)
      : std::runtime_error(fmt::format(format, std::forward<Args>(args)...)) {}
};

// At most `limit` characters of user input for an error message, marked when cut, so that a
// hostile 100 MB value is never echoed whole.
inline std::string excerpt(std::string_view text, std::size_t limit = 80) {
  if (text.size() <= limit) return std::string(text);
  return fmt::format("{}... ({} characters)", text.substr(0, limit), text.size());
}

}  // namespace pagefl
