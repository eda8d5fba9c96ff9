#include "pagefl/net/federation_service.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "pagefl/core/error.h"
#include "pagefl/fl/aggregation.h"
#include "pagefl/net/tls.h"

namespace pagefl::net {
namespace {

// How long a FetchRound call waits for work before answering WAIT; clients call again at once.
constexpr std::chrono::milliseconds kFetchPatience{2000};

std::int64_t product(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (std::int64_t s : shape) n *= s;
  return n;
}

}  // namespace

grpc::Status FederationService::identify(const grpc::ServerContext& context, const std::string& claimed,
                                         std::int64_t& client) const {
  std::string name = claimed;
  if (settings_.tls) {
    const std::optional<std::string> common_name = peerCommonName(context);
    if (!common_name) {
      spdlog::warn("refused a call from {}: no verified client certificate", context.peer());
      return {grpc::StatusCode::UNAUTHENTICATED, "a client certificate signed by the federation's CA is required"};
    }
    if (!claimed.empty() && claimed != *common_name) {
      spdlog::warn("refused a call from {}: its certificate is for '{}' but it claims to be '{}'", context.peer(),
                   *common_name, claimed);
      return {grpc::StatusCode::PERMISSION_DENIED,
              fmt::format("your certificate is for '{}', not '{}'; use --id {}", *common_name, claimed, *common_name)};
    }
    name = *common_name;
  }
  const std::optional<std::int64_t> index = coordinator_.indexOf(name);
  if (!index) {
    spdlog::warn("refused unknown site '{}' from {}: not in deploy.clients", name, context.peer());
    return {grpc::StatusCode::PERMISSION_DENIED,
            fmt::format("site '{}' is not in this federation (the server's deploy.clients)", name)};
  }
  client = *index;
  return grpc::Status::OK;
}

grpc::Status FederationService::Join(grpc::ServerContext* context, const wire::JoinRequest* request,
                                     wire::JoinReply* reply) {
  std::int64_t client = -1;
  if (grpc::Status status = identify(*context, request->client_id(), client); !status.ok()) return status;
  const std::vector<std::int64_t> shape(request->sample_shape().begin(), request->sample_shape().end());
  if (product(shape) != product(settings_.sample_shape) || request->train_samples() < 0 ||
      request->test_samples() < 0) {
    spdlog::warn("refused site '{}': its samples are [{}] but the model takes [{}]", request->client_id(),
                 fmt::join(shape, ", "), fmt::join(settings_.sample_shape, ", "));
    return {grpc::StatusCode::FAILED_PRECONDITION,
            fmt::format("this site's samples have shape [{}] but the federation's model takes [{}]: check --data",
                        fmt::join(shape, ", "), fmt::join(settings_.sample_shape, ", "))};
  }
  coordinator_.join(client, request->train_samples(), request->test_samples());
  const std::string name = coordinator_.site(client).name;
  spdlog::info("site '{}' joined as client {} ({} train, {} test samples)", name, client, request->train_samples(),
               request->test_samples());
  audit_.recordEvent("join", fmt::format("{} from {}: {} train, {} test samples", name, context->peer(),
                                         request->train_samples(), request->test_samples()));
  reply->set_client_index(client);
  reply->set_config_toml(settings_.config_toml);
  reply->set_model_size(settings_.model_size);
  reply->set_num_classes(settings_.num_classes);
  for (std::int64_t size : settings_.sample_shape) reply->add_sample_shape(size);
  return grpc::Status::OK;
}

grpc::Status FederationService::FetchRound(grpc::ServerContext* context, const wire::FetchRequest* request,
                                           grpc::ServerWriter<wire::Chunk>* writer) {
  std::int64_t client = -1;
  if (grpc::Status status = identify(*context, request->client_id(), client); !status.ok()) return status;
  if (!coordinator_.hasJoined(client))
    return {grpc::StatusCode::ABORTED, "join before fetching rounds (the server may have restarted)"};
  const Assignment assignment = coordinator_.fetch(client, kFetchPatience);
  if (assignment.work != wire::TRAIN) {
    wire::Chunk chunk;
    chunk.mutable_header()->set_work(assignment.work);
    chunk.mutable_header()->set_note(assignment.note);
    writer->Write(chunk);
    return grpc::Status::OK;
  }
  const bool sent = sendChunks(*assignment.message, [&](const wire::Chunk& chunk) { return writer->Write(chunk); });
  if (!sent)
    spdlog::warn("site '{}' went away while receiving round {}", coordinator_.site(client).name,
                 assignment.message->header.round());
  return grpc::Status::OK;
}

grpc::Status FederationService::refuseUpdate(const std::string& client, std::int64_t client_index,
                                             std::int64_t round, std::int64_t bytes, const std::string& sha256,
                                             const std::string& reason, wire::SubmitReply* reply) {
  spdlog::warn("refused the round-{} update of site '{}': {}", round, client, reason);
  audit_.recordUpdate(client, round, bytes, sha256, kRejected, reason);
  if (client_index >= 0) coordinator_.noteRejected(client_index, round, reason);
  reply->set_accepted(false);
  reply->set_reason(reason);
  return grpc::Status::OK;
}

grpc::Status FederationService::SubmitUpdate(grpc::ServerContext* context, grpc::ServerReader<wire::Chunk>* reader,
                                             wire::SubmitReply* reply) {
  ChunkAssembler assembler(settings_.max_update_bytes);
  wire::Chunk chunk;
  std::int64_t client = -1, round = -1;
  std::string name = "?";
  try {
    while (reader->Read(&chunk)) {
      if (chunk.has_header() && client < 0) {
        // Who sends, before anything they send is judged, so that every refusal is theirs.
        if (grpc::Status status = identify(*context, chunk.header().client_id(), client); !status.ok())
          return status;
        name = coordinator_.site(client).name;
        round = chunk.header().round();
      }
      assembler.add(chunk);
    }
    if (context->IsCancelled()) throw Error("the client cancelled the stream before it finished");
    const WireMessage message = assembler.finish();
    const std::string sha256 = sha256Hex(message.payload);
    const std::int64_t bytes = static_cast<std::int64_t>(message.payload.size());
    ClientUpdate update;
    try {  // a complete but malformed update is audited with its size and hash
      update = decodeUpdate(message, client);
    } catch (const Error& e) {
      return refuseUpdate(name, client, message.header.round(), bytes, sha256, e.what(), reply);
    }
    if (auto defect = findUpdateDefect(update, settings_.model_size))
      return refuseUpdate(name, client, update.round, bytes, sha256, *defect, reply);
    round = update.round;
    auto record_acceptance = [&] { audit_.recordUpdate(name, round, bytes, sha256, kAccepted, ""); };
    if (auto refusal = coordinator_.offer(std::move(update), record_acceptance))
      return refuseUpdate(name, client, round, bytes, sha256, *refusal, reply);
    spdlog::info("accepted the round-{} update of site '{}' ({:.2f} MB)", round, name, static_cast<double>(bytes) / 1e6);
    reply->set_accepted(true);
    return grpc::Status::OK;
  } catch (const Error& e) {
    // A malformed stream (data before any header): audited under the certificate's name, if any.
    if (client < 0 && settings_.tls) name = peerCommonName(*context).value_or("?");
    return refuseUpdate(name, client, round, assembler.bytesReceived(), "", e.what(), reply);
  }
}

}  // namespace pagefl::net
