#include "pagefl/net/federation_client.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "pagefl/core/config.h"
#include "pagefl/core/directories.h"
#include "pagefl/core/error.h"
#include "pagefl/core/runtime.h"
#include "pagefl/core/sealed_file.h"
#include "pagefl/data/data_source.h"
#include "pagefl/fl/algorithm.h"
#include "pagefl/fl/attack.h"
#include "pagefl/fl/metric_keys.h"
#include "pagefl/fl/state_archive.h"
#include "pagefl/modelfile/model_export.h"
#include "pagefl/net/audit_log.h"
#include "pagefl/net/personal_model_report.h"
#include "pagefl/net/proto/federation.grpc.pb.h"
#include "pagefl/net/site_data.h"
#include "pagefl/net/site_state.h"
#include "pagefl/net/wire_codec.h"
#include "pagefl/nn/models.h"

namespace pagefl::net {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The largest round message a site accepts (a ResNet-18 is 45 MB; this leaves room).
constexpr std::int64_t kMaxRoundMessageBytes = std::int64_t{4} << 30;

// A failed call that retrying may cure (the server restarting, a network blip), as opposed to a
// refusal that needs the user (an unknown site, a bad certificate, data of the wrong shape).
class Unreachable : public Error {
 public:
  using Error::Error;
};

void check(const grpc::Status& status, const char* what) {
  if (status.ok()) return;
  const std::string detail = fmt::format("{}: {} ({})", what, status.error_message(), static_cast<int>(status.error_code()));
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:  // the server restarted and wants this site to join again
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:  // the server is busy buffering other uploads
      throw Unreachable("{}", detail);
    default:
      throw Error("the server refused this site: {}", detail);
  }
}

std::unique_ptr<grpc::ClientContext> contextWithin(std::chrono::seconds timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

// Flat LEAF features take the model's input shape (the server checked the sizes agree).
void reshapeSamples(Dataset& data, std::vector<std::int64_t> sample_shape) {
  sample_shape.insert(sample_shape.begin(), data.size());
  data.x = data.x.reshape(sample_shape);
}

class SiteRunner {
 public:
  explicit SiteRunner(const ClientOptions& options)
      : options_(options),
        state_path_((fs::path(options.state_dir.empty() ? "pagefl-site-" + options.id : options.state_dir) /
                     "state.pt")
                        .string()),
        data_(loadSiteData(options.data_path, options.id)) {
    if (data_.train.size() == 0) throw Error("--data '{}': site '{}' has no training samples", options.data_path, options.id);
    spdlog::info("site '{}': {} train and {} test samples ({}, {})", options.id, data_.train.size(), data_.test.size(),
                 data_.format, options.data_path);
    ensureDirectory(fs::path(state_path_).parent_path().string(), "the site's state directory (--state)");
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(kMaxWireMessageBytes);
    stub_ = wire::Federation::NewStub(
        grpc::CreateCustomChannel(options.server, channelCredentials(options.tls), arguments));
  }

  int run() {
    auto unreachable_since = Clock::now();
    for (;;) {
      try {
        if (!joined_) join();
        if (!serveOneCall()) return 0;
        unreachable_since = Clock::now();
      } catch (const Unreachable& e) {
        joined_ = false;
        const double waited = std::chrono::duration<double>(Clock::now() - unreachable_since).count();
        if (waited > options_.give_up_s)
          throw Error("the server at {} has been unreachable for {:.0f} s ({}); giving up", options_.server, waited,
                      e.what());
        spdlog::warn("{}; retrying", e.what());
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    }
  }

 private:
  void join() {
    wire::JoinRequest request;
    request.set_client_id(options_.id);
    request.set_train_samples(data_.train.size());
    request.set_test_samples(data_.test.size());
    for (std::int64_t size : data_.train.sampleShape()) request.add_sample_shape(size);
    wire::JoinReply reply;
    check(stub_->Join(contextWithin(std::chrono::seconds(30)).get(), request, &reply), "join");
    if (!algorithm_) setUp(reply);
    joined_ = true;
    spdlog::info("joined {} as client {}", options_.server, client_);
  }

  // Builds this site's half of the algorithm from the config the server sent.
  void setUp(const wire::JoinReply& reply) {
    config_ = parseConfig(reply.config_toml(), {}, "the server's config");
    client_ = reply.client_index();
    const std::vector<std::int64_t> shape(reply.sample_shape().begin(), reply.sample_shape().end());
    if (data_.raw_images) {  // the server's test images went through the same standardisation
      data_.train = standardiseImages(std::move(data_.train), config_.data.source);
      data_.test = standardiseImages(std::move(data_.test), config_.data.source);
    }
    reshapeSamples(data_.train, shape);
    reshapeSamples(data_.test, shape);
    spec_ = {config_.model.name, shape, reply.num_classes(), config_.model.hidden};
    model_ = std::make_unique<FlatModel>(makeNetwork(spec_));
    if (model_->layout().size() != reply.model_size())
      throw Error("this site's model has {} parameters but the server's has {}: do the site's data and the server's "
                  "agree on the number of classes?",
                  model_->layout().size(), reply.model_size());
    algorithm_ = std::make_unique<Algorithm>(makeAlgorithm(config_));
    streams_ = std::make_unique<RngStreams>(static_cast<std::uint64_t>(config_.run.seed));
    if (fs::exists(state_path_)) {
      saved_ = readSiteFile(state_path_, state_);
      spdlog::info("restored this site's state from {} (last trained round {})", state_path_, saved_.round);
    }
  }

  // One FetchRound call, and the round's work if it brought some. Returns false when the run is over.
  bool serveOneCall() {
    wire::FetchRequest request;
    request.set_client_id(options_.id);
    auto context = contextWithin(std::chrono::seconds(60));
    auto reader = stub_->FetchRound(context.get(), request);
    ChunkAssembler assembler(kMaxRoundMessageBytes);
    wire::Chunk chunk;
    while (reader->Read(&chunk)) assembler.add(chunk);
    check(reader->Finish(), "fetching the round");
    const WireMessage wire = assembler.finish();
    switch (wire.header.work()) {
      case wire::DONE:
        spdlog::info("the server says {}; stopping", wire.header.note());
        return false;
      case wire::TRAIN:
        train(decodeRound(wire));
        return true;
      default:
        return true;
    }
  }

  // <state directory>/models/personal.safetensors: the model this site's P->L was scored with.
  void exportPersonalModel(ClientUpdate& update) {
    const torch::Tensor& personal = update.personal.defined() ? update.personal : update.params;
    if (!personal.defined()) return;
    const std::string path = (fs::path(state_path_).parent_path() / "models" / "personal.safetensors").string();
    const std::string sha256 = exportModel(path, config_, spec_, model_->layout(), update.round, client_, personal);
    spdlog::info("round {}: this site's personalised model is in {} (SHA-256 {:.16})", update.round, path, sha256);
    update.personal = torch::Tensor();  // it never leaves the site; its hash goes to the audit log
    attachPersonalModelReport(update, {sha256, static_cast<std::int64_t>(fs::file_size(path))});
  }

  void train(const ServerMessage& message) {
    const auto started = Clock::now();
    const std::string global_sha256 = sha256Hex(parameterBytes(message.global));
    if (saved_.round == message.round && saved_.global_sha256 == global_sha256) {
      spdlog::info("round {}: sending the update saved before a restart (trained on the same global model)",
                   message.round);
    } else {
      ClientContext context{client_, data_.train, data_.test, *model_, state_, *streams_};
      // The run's last round: this site's personalised model is written here, and stays here.
      ServerMessage local = message;
      local.export_personal = message.evaluate && message.round == config_.run.rounds;
      ClientUpdate update = algorithm_->client->run(local, context);
      update.round = message.round;
      if (local.export_personal) exportPersonalModel(update);
      if (options_.attack) {
        poisonUpload(update, message.global, *options_.attack, *streams_);
        spdlog::warn("round {}: drill: sending a poisoned update ({} x{})", message.round, options_.attack->kind,
                     options_.attack->scale);
      }
      saved_ = {message.round, global_sha256, encodeUpdate(update, options_.id)};
      writeSealedFile(state_path_, siteFile(state_, saved_));
    }
    if (options_.stall_at_round > 0 && message.round >= options_.stall_at_round) {
      spdlog::warn("drill: stalling in round {} before sending (--stall-at-round)", message.round);
      for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
    }
    wire::SubmitReply reply;
    auto call = contextWithin(std::chrono::seconds(300));
    auto writer = stub_->SubmitUpdate(call.get(), &reply);
    sendChunks(saved_.wire, [&](const wire::Chunk& chunk) { return writer->Write(chunk); });
    writer->WritesDone();
    check(writer->Finish(), "sending the update");
    const auto& metrics = saved_.wire.header.numbers();
    if (reply.accepted()) {
      // The hashes match the server's audit log: the model received, and the update sent.
      spdlog::info(
          "round {}: update accepted ({:.1f} s{}; received model {:.16}, sent update {:.16})", message.round,
          std::chrono::duration<double>(Clock::now() - started).count(),
          metrics.count(metric::kTrainLoss) ? fmt::format(", train loss {:.4f}", metrics.at(metric::kTrainLoss)) : "",
          saved_.global_sha256, sha256Hex(saved_.wire.payload));
    } else {
      spdlog::warn("round {}: the server refused this site's update: {}", message.round, reply.reason());
    }
  }

  ClientOptions options_;
  std::string state_path_;
  SiteData data_;
  std::unique_ptr<wire::Federation::Stub> stub_;
  bool joined_ = false;
  Config config_;
  ModelSpec spec_;
  std::int64_t client_ = -1;
  std::unique_ptr<FlatModel> model_;
  std::unique_ptr<Algorithm> algorithm_;
  std::unique_ptr<RngStreams> streams_;
  ClientState state_;
  SavedUpdate saved_;
};

}  // namespace

int runClient(const ClientOptions& options) {
  if (options.id.empty()) throw Error("--id is required: the site's name, as listed in the server's deploy.clients");
  configureSingleThreadedKernels();
  configureGrpc();
  return SiteRunner(options).run();
}

}  // namespace pagefl::net
