// `pagefl client`: one deployed site. It reads its data from local disk, joins the server, and
// for every round it is sampled in runs the config's client half (the same code as in the
// simulator) and sends back its update. Its agents and personal state persist in --state, so
// a restarted site continues where it was. Data never leaves the site; only parameters and
// metrics do.
#pragma once

#include <optional>
#include <string>

#include "pagefl/core/config.h"
#include "pagefl/net/tls.h"

namespace pagefl::net {

struct ClientOptions {
  std::string server;     // host:port
  std::string id;         // the site's name: in deploy.clients, and its certificate's common name
  std::string data_path;
  std::string state_dir;  // empty: ./pagefl-site-<id>
  TlsFiles tls;
  double give_up_s = 300;  // stop after the server has been unreachable this long
  // A drill: this site poisons every update it sends (fl/attack.h), to test a server's defences.
  std::optional<AttackConfig> attack;
};

int runClient(const ClientOptions& options);

}  // namespace pagefl::net
