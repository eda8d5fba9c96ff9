// The state archives of server checkpoints, site state files and PAGE's agents. Raw input must
// pass the seal (a checksum) or be refused; sealed input, as a forger who recomputes the checksum
// would write it, must pass the safetensors parser and the checkpoint's validation or be refused;
// the same bytes as a saved DDPG agent (carried inside PAGE's checkpoints) must load or be refused.
#include <sstream>

#include "fuzz_support.h"
#include "pagefl/core/sealed_file.h"
#include "pagefl/fl/state_archive.h"
#include "pagefl/net/server_checkpoint.h"
#include "pagefl/rl/ddpg_agent.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const std::string path = pagefl::fuzz::asFile(data, size, ".pt");
  pagefl::fuzz::refusedOnlyWithErrors([&] { pagefl::readSealedFile(path, "the fuzzed file"); });
  pagefl::writeSealedFile(path, bytes);
  pagefl::fuzz::refusedOnlyWithErrors([&] { pagefl::net::loadCheckpoint(path, 10, 4); });
  pagefl::rl::DdpgOptions options;
  options.state_dim = 3;
  options.action_dim = 2;
  options.hidden1 = options.hidden2 = 4;
  options.replay_capacity = 8;
  static pagefl::rl::DdpgAgent agent(options, at::make_generator<at::CPUGeneratorImpl>(1));
  std::istringstream saved(bytes);
  pagefl::fuzz::refusedOnlyWithErrors([&] { agent.load(saved); });
  return 0;
}
