#include "pagefl/net/federation_service.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "pagefl/core/error.h"
#include "pagefl/fl/aggregation.h"
#include "pagefl/fl/robust_aggregation.h"
#include "pagefl/net/personal_model_report.h"
#include "pagefl/net/tls.h"

namespace pagefl::net {
namespace {

// How long a FetchRound call waits for work before answering WAIT; clients call again at once.
constexpr std::chrono::milliseconds kFetchPatience{2000};

// More samples than any site could hold: a declaration beyond it is refused at Join.
constexpr std::int64_t kMaxSiteSamples = std::int64_t{1} << 40;

// The number of values in a sample of `shape`, or -1 for a shape no sample can have (a negative
// size, or a product past 2^40 that would overflow the arithmetic).
std::int64_t product(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (std::int64_t s : shape) {
    if (s < 0 || (s > 0 && n > (std::int64_t{1} << 40) / s)) return -1;
    n *= s;
  }
  return n;
}

std::string shapeText(const std::vector<std::int64_t>& shape) {
  return excerpt(fmt::format("{}", fmt::join(shape, ", ")));
}

// The answer to a call that cannot be audited: the round loop sees the failure too and stops.
grpc::Status auditUnavailable(const Error& failure) {
  spdlog::error("{}", failure.what());
  return {grpc::StatusCode::UNAVAILABLE, "the server cannot write its audit log and is stopping"};
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
                   *common_name, excerpt(claimed));
      return {grpc::StatusCode::PERMISSION_DENIED, fmt::format("your certificate is for '{}', not '{}'; use --id {}",
                                                               *common_name, excerpt(claimed), *common_name)};
    }
    name = *common_name;
  }
  const std::optional<std::int64_t> index = coordinator_.indexOf(name);
  if (!index) {
    spdlog::warn("refused unknown site '{}' from {}: not in deploy.clients", excerpt(name), context.peer());
    return {grpc::StatusCode::PERMISSION_DENIED,
            fmt::format("site '{}' is not in this federation (the server's deploy.clients)", excerpt(name))};
  }
  client = *index;
  return grpc::Status::OK;
}

grpc::Status FederationService::Join(grpc::ServerContext* context, const wire::JoinRequest* request,
                                     wire::JoinReply* reply) {
  std::int64_t client = -1;
  if (grpc::Status status = identify(*context, request->client_id(), client); !status.ok()) return status;
  const std::string name = coordinator_.site(client).name;
  const std::vector<std::int64_t> shape(request->sample_shape().begin(), request->sample_shape().end());
  if (product(shape) != product(settings_.sample_shape)) {
    spdlog::warn("refused site '{}': its samples are [{}] but the model takes [{}]", name, shapeText(shape),
                 shapeText(settings_.sample_shape));
    return {grpc::StatusCode::FAILED_PRECONDITION,
            fmt::format("this site's samples have shape [{}] but the federation's model takes [{}]: check --data",
                        shapeText(shape), shapeText(settings_.sample_shape))};
  }
  for (std::int64_t count : {request->train_samples(), request->test_samples()})
    if (count < 0 || count > kMaxSiteSamples) {
      spdlog::warn("refused site '{}': it declares {} train and {} test samples", name, request->train_samples(),
                   request->test_samples());
      return {grpc::StatusCode::INVALID_ARGUMENT,
              fmt::format("this site declares {} train and {} test samples; counts must lie in 0..2^40",
                          request->train_samples(), request->test_samples())};
    }
  coordinator_.join(client, request->train_samples(), request->test_samples());
  spdlog::info("site '{}' joined as client {} ({} train, {} test samples)", name, client, request->train_samples(),
               request->test_samples());
  try {
    audit_.recordEvent("join", fmt::format("{} from {}: {} train, {} test samples", name, context->peer(),
                                           request->train_samples(), request->test_samples()));
  } catch (const Error& e) {
    return auditUnavailable(e);
  }
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
  if (assignment.work != Work::Train) {
    wire::Chunk chunk;
    chunk.mutable_header()->set_work(assignment.work == Work::Done ? wire::DONE : wire::WAIT);
    chunk.mutable_header()->set_note(assignment.note);
    writer->Write(chunk);
    return grpc::Status::OK;
  }
  const std::shared_ptr<const WireMessage> encoded = encodedFor(assignment.message);
  const bool sent = sendChunks(*encoded, [&](const wire::Chunk& chunk) { return writer->Write(chunk); });
  if (!sent)
    spdlog::warn("site '{}' went away while receiving round {}", coordinator_.site(client).name,
                 assignment.message->round);
  return grpc::Status::OK;
}

std::shared_ptr<const WireMessage> FederationService::encodedFor(const std::shared_ptr<const ServerMessage>& message) {
  std::lock_guard lock(encoded_mutex_);
  if (encoded_source_ != message) {
    encoded_ = std::make_shared<const WireMessage>(encodeRound(*message));
    encoded_source_ = message;  // held, so that a later round's message cannot reuse its address
  }
  return encoded_;
}

grpc::Status FederationService::refuseUpdate(const std::string& client, std::int64_t client_index,
                                             std::int64_t round, std::int64_t bytes, const std::string& sha256,
                                             const std::string& reason, wire::SubmitReply* reply) {
  spdlog::warn("refused the round-{} update of site '{}': {}", round, client, reason);
  try {
    audit_.recordUpdate(client, round, bytes, sha256, kRejected, reason);
  } catch (const Error& e) {
    return auditUnavailable(e);
  }
  if (client_index >= 0) coordinator_.noteRejected(client_index, round, reason);
  reply->set_accepted(false);
  reply->set_reason(reason);
  return grpc::Status::OK;
}

grpc::Status FederationService::SubmitUpdate(grpc::ServerContext* context, grpc::ServerReader<wire::Chunk>* reader,
                                             wire::SubmitReply* reply) {
  std::int64_t client = -1, round = -1, bytes = 0;
  std::string name = "?";
  std::string reason;
  try {
    return receiveUpdate(*context, *reader, *reply, client, round, name, bytes);
  } catch (const Error& e) {
    reason = e.what();
  } catch (const c10::Error& e) {  // whatever throws is a refusal, audited like any other
    reason = fmt::format("a malformed update ({})", excerpt(e.msg()));
  } catch (const std::bad_alloc&) {
    reason = "the server ran out of memory reading it";
  } catch (const std::exception& e) {
    reason = fmt::format("an unexpected defect ({})", excerpt(e.what()));
  }
  // A malformed stream (data before any header): audited under the certificate's name, if any.
  if (client < 0 && settings_.tls) name = peerCommonName(*context).value_or("?");
  return refuseUpdate(name, client, round, bytes, "", reason, reply);
}

grpc::Status FederationService::receiveUpdate(grpc::ServerContext& context, grpc::ServerReader<wire::Chunk>& reader,
                                              wire::SubmitReply& reply, std::int64_t& client, std::int64_t& round,
                                              std::string& name, std::int64_t& bytes) {
  ChunkAssembler assembler(settings_.max_update_bytes);
  std::optional<UploadBudget::Reservation> reservation;
  wire::Chunk chunk;
  while (reader.Read(&chunk)) {
    if (chunk.has_header() && client < 0) {
      // Who sends, before anything they send is judged, so that every refusal is theirs.
      if (grpc::Status status = identify(context, chunk.header().client_id(), client); !status.ok()) return status;
      name = coordinator_.site(client).name;
      round = chunk.header().round();
    }
    assembler.add(chunk);
    bytes = assembler.bytesReceived();
    if (!reservation && assembler.hasHeader()) {
      reservation = budget_.tryReserve(assembler.header().payload_bytes());
      if (!reservation) {
        const std::string reason = fmt::format(
            "the server is buffering {:.1f} MiB of uploads, and this one's {:.1f} MiB would pass deploy.max_buffered_mb "
            "= {:.1f}; the site retries",
            static_cast<double>(budget_.used()) / (1 << 20),
            static_cast<double>(assembler.header().payload_bytes()) / (1 << 20),
            static_cast<double>(budget_.limit()) / (1 << 20));
        // Audited, but not noted as the site's refusal for the round: it may send again.
        spdlog::warn("deferred the round-{} update of site '{}': {}", round, name, reason);
        try {
          audit_.recordUpdate(name, round, 0, "", kRejected, reason);
        } catch (const Error& e) {
          return auditUnavailable(e);
        }
        return {grpc::StatusCode::RESOURCE_EXHAUSTED, reason};
      }
    }
  }
  if (context.IsCancelled()) throw Error("the client cancelled the stream before it finished");
  const WireMessage message = assembler.finish();
  const std::string sha256 = sha256Hex(message.payload);
  ClientUpdate update;
  std::optional<PersonalModelReport> personal_model;
  try {  // a complete but malformed update is audited with its size and hash
    update = decodeUpdate(message, client);
    personal_model = takePersonalModelReport(update);
  } catch (const Error& e) {
    return refuseUpdate(name, client, message.header.round(), bytes, sha256, e.what(), &reply);
  }
  round = update.round;
  if (auto defect = findUpdateDefect(update, settings_.model_size, settings_.uploads_carry_model))
    return refuseUpdate(name, client, round, bytes, sha256, *defect, &reply);
  if (const torch::Tensor global = coordinator_.globalOf(round); global.defined() && update.params.defined())
    if (auto defect = normBoundDefect((update.params - global).norm().item<double>(), settings_.robust))
      return refuseUpdate(name, client, round, bytes, sha256, *defect, &reply);
  if (const Site site = coordinator_.site(client); update.num_samples > site.train_size)
    return refuseUpdate(name, client, round, bytes, sha256,
                        fmt::format("it claims {} training samples, but the site declared {} when it joined",
                                    update.num_samples, site.train_size),
                        &reply);
  auto record_acceptance = [&] {
    audit_.recordUpdate(name, round, bytes, sha256, kAccepted, "");
    if (personal_model)
      audit_.recordModel(round, fmt::format("personal, kept by {} (models/personal.safetensors)", name),
                         personal_model->sha256, personal_model->bytes);
  };
  if (auto refusal = coordinator_.offer(std::move(update), record_acceptance))
    return refuseUpdate(name, client, round, bytes, sha256, *refusal, &reply);
  spdlog::info("accepted the round-{} update of site '{}' ({:.2f} MB)", round, name, static_cast<double>(bytes) / 1e6);
  reply.set_accepted(true);
  return grpc::Status::OK;
}

}  // namespace pagefl::net
