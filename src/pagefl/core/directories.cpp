#include "pagefl/core/directories.h"

#include <filesystem>

#include "pagefl/core/error.h"

namespace pagefl {

void ensureDirectory(const std::string& path, const std::string& what) {
  std::error_code error;
  if (std::filesystem::exists(path, error) && !std::filesystem::is_directory(path, error))
    throw Error("{} '{}' exists and is not a directory: choose another path", what, excerpt(path));
  std::filesystem::create_directories(path, error);
  if (error) throw Error("cannot create {} '{}': {} (choose a writable path)", what, excerpt(path), error.message());
}

}  // namespace pagefl
