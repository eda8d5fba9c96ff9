#include "pagefl/core/sealed_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pagefl/core/error.h"
#include "pagefl/core/sha256.h"

namespace pagefl {
namespace {
// A sealed file: this line, the contents' SHA-256 in hex, a newline, the contents.
constexpr std::string_view kSealMagic = "PAGEFL-SEALED-V1 ";
constexpr std::size_t kSealHeaderBytes = kSealMagic.size() + 64 + 1;
}  // namespace

void writeFileAtomically(const std::string& path, const std::string& bytes) {
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw Error("cannot write '{}': {}", temporary, std::strerror(errno));
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      throw Error("cannot write '{}': {} (is the disk full?)", temporary, reason);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) throw Error("cannot flush '{}': {}", temporary, std::strerror(errno));
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
    throw Error("cannot replace '{}': {}", path, std::strerror(errno));
  // The rename is durable only once the directory entry is.
  const std::string directory = std::filesystem::path(path).parent_path().string();
  const int dir_fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

std::string readWholeFile(const std::string& path, const std::string& what) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) throw Error("{} '{}' is a directory; it must be a file", what, path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open {} '{}'", what, path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void writeSealedFile(const std::string& path, const std::string& payload) {
  std::string sealed;
  sealed.reserve(kSealHeaderBytes + payload.size());
  sealed.append(kSealMagic).append(sha256Hex(payload)).append("\n").append(payload);
  writeFileAtomically(path, sealed);
}

std::string readSealedFile(const std::string& path, const std::string& what) {
  std::string bytes = readWholeFile(path, what);
  if (bytes.size() < kSealHeaderBytes || bytes.rfind(kSealMagic, 0) != 0 || bytes[kSealHeaderBytes - 1] != '\n')
    throw Error("{} '{}' is not a sealed pagefl state file (damaged, or written by an older pagefl)", what, path);
  const std::string recorded = bytes.substr(kSealMagic.size(), 64);
  bytes.erase(0, kSealHeaderBytes);
  if (sha256Hex(bytes) != recorded)
    throw Error("{} '{}' is damaged: its contents do not match the checksum written with them", what, path);
  return bytes;
}

}  // namespace pagefl
