// Writes the seeds that come from pagefl's own encoders: a JPEG image, chunk streams of an update
// and of a round message (in wire_fuzz's format), a server checkpoint, sealed and unsealed, and a
// saved DDPG agent.
// Usage: seeds_writer <corpus directory>. The output is committed under fuzz/corpus.
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "pagefl/core/error.h"
#include "pagefl/core/sealed_file.h"
#include "pagefl/data/jpeg_codec.h"
#include "pagefl/fl/state_archive.h"
#include "pagefl/net/server_checkpoint.h"
#include "pagefl/net/wire_codec.h"
#include "pagefl/rl/ddpg_agent.h"

namespace fs = std::filesystem;
using namespace pagefl;

void put(const fs::path& root, const std::string& harness, const std::string& name, const std::string& bytes) {
  fs::create_directories(root / harness);
  std::ofstream(root / harness / name, std::ios::binary) << bytes;
}

// wire_fuzz's format: each chunk as one byte of length and its bytes; chunks must be short.
std::string lengthPrefixed(const net::WireMessage& message) {
  std::string stream;
  net::sendChunks(message, [&](const wire::Chunk& chunk) {
    const std::string bytes = chunk.SerializeAsString();
    if (bytes.size() > 255) throw Error("a seed chunk of {} bytes does not fit its length byte", bytes.size());
    stream += static_cast<char>(bytes.size());
    stream += bytes;
    return true;
  });
  return stream;
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const fs::path root = argv[1];

  RgbImage image{8, 8, std::vector<std::uint8_t>(8 * 8 * 3)};
  for (std::size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<std::uint8_t>(i * 7);
  const std::vector<std::uint8_t> jpeg = encodeJpeg(image, 90);
  put(root, "jpeg", "rgb-8x8.jpg", std::string(jpeg.begin(), jpeg.end()));

  ClientUpdate update;
  update.round = 3;
  update.num_samples = 12;
  update.params = torch::arange(6, torch::kFloat32);
  update.tensors["control_delta"] = torch::ones({6});
  update.metrics["train_loss"] = 0.5;
  put(root, "wire", "update", lengthPrefixed(net::encodeUpdate(update, "site-a")));
  ServerMessage round;
  round.round = 4;
  round.global = torch::ones({2, 3});
  round.tensors["page/upload_server_loss"] = torch::tensor({0.25f});
  round.settings["lr"] = 0.05;
  put(root, "wire", "round", lengthPrefixed(net::encodeRound(round)));

  const fs::path checkpoint = root / "checkpoint.tmp";
  net::saveCheckpoint(checkpoint.string(),
                      {2, {{"global", torch::ones({4})}, {"momentum", torch::zeros({4})}}, "[run]\nrounds = 10\n",
                       {{"site-a", true, 10, 5, {}}}});
  const std::string sealed = readWholeFile(checkpoint.string(), "the checkpoint");
  put(root, "archive", "checkpoint-sealed", sealed);
  put(root, "archive", "checkpoint-archive", readSealedFile(checkpoint.string(), "the checkpoint"));
  fs::remove(checkpoint);

  // archive_fuzz's agent: the same dimensions, stepped once so that its optimisers hold moments.
  rl::DdpgOptions options;
  options.state_dim = 3;
  options.action_dim = 2;
  options.hidden1 = options.hidden2 = 4;
  options.replay_capacity = 8;
  options.warmup = 0;
  options.batch_size = 2;
  rl::DdpgAgent agent(options, at::make_generator<at::CPUGeneratorImpl>(1));
  std::mt19937_64 rng(1);
  const torch::Tensor state = torch::ones({3});
  agent.remember(state, agent.act(state, rng, [](std::mt19937_64&) { return torch::zeros({2}); }), 1.0, state);
  agent.update(rng);
  std::ostringstream saved;
  agent.save(saved);
  put(root, "archive", "ddpg-agent", saved.str());
  return 0;
}
