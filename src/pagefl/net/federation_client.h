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
  // A drill: hang after training (and saving) in the first round from this one on that the site is
  // sampled for, before sending, so that deadlines, stragglers and crash recovery can be tested
  // by killing it there. 0: never.
  std::int64_t stall_at_round = 0;
};

int runClient(const ClientOptions& options);

}  // namespace pagefl::net
