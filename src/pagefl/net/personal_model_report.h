// A deployed site keeps its personalised model (models/personal.safetensors in its state
// directory) and never sends it; with its last update it sends only the file's SHA-256 and size,
// so that the server's audit log can trace the model a site puts into production to its round.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "pagefl/fl/messages.h"

namespace pagefl::net {

struct PersonalModelReport {
  std::string sha256;  // lowercase hex of the file's bytes
  std::int64_t bytes = 0;
};

void attachPersonalModelReport(ClientUpdate& update, const PersonalModelReport& report);

// Takes the report out of `update` (nothing downstream sees it: not the algorithm, not the metrics
// files). nullopt when the update carries none; throws pagefl::Error when it is malformed.
std::optional<PersonalModelReport> takePersonalModelReport(ClientUpdate& update);

}  // namespace pagefl::net
