// Creating the directories pagefl writes into, with an error that names the setting to fix
// rather than a raw filesystem exception.
#pragma once

#include <string>

namespace pagefl {

// Creates `path` and its parents when missing. Throws pagefl::Error naming `what` (the setting
// or option the path came from) when it cannot, or when `path` exists and is not a directory.
void ensureDirectory(const std::string& path, const std::string& what);

}  // namespace pagefl
