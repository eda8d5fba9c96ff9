// What a site keeps on its own disk between rounds and restarts: its client state (agents,
// personal models) and the update it last produced, sealed in one file (fl/state_archive.h).
// Offered the same round again with the same global model (after its own restart or the server's),
// the site sends the saved update instead of training again, so that its local state advances once
// per round.
#pragma once

#include <cstdint>
#include <string>

#include "pagefl/fl/client_state.h"
#include "pagefl/net/wire_codec.h"

namespace pagefl::net {

struct SavedUpdate {
  std::int64_t round = -1;
  std::string global_sha256;  // of the model it was trained from
  WireMessage wire;
};

// The file's bytes, for writeSealedFile.
std::string siteFile(const ClientState& state, const SavedUpdate& saved);
// Restores `state` from the sealed file at `path` and returns the update it saved. Throws
// pagefl::Error saying how to recover when the file is damaged.
SavedUpdate readSiteFile(const std::string& path, ClientState& state);

}  // namespace pagefl::net
