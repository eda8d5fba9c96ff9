// SHA-256 as lowercase hex (OpenSSL): the audit log's fingerprint of every update and model, and
// the checksum that seals pagefl's own state files.
#pragma once

#include <string>
#include <string_view>

namespace pagefl {

std::string sha256Hex(std::string_view bytes);

}  // namespace pagefl
