// The server's gRPC handlers: who a caller is (its certificate's common name under TLS), whether
// it may take part, and every update checked before the round loop sees it. A refused request
// is logged, audited and answered with its reason; it never stops the server.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "pagefl/core/config.h"
#include "pagefl/net/audit_log.h"
#include "pagefl/net/proto/federation.grpc.pb.h"
#include "pagefl/net/round_coordinator.h"
#include "pagefl/net/upload_budget.h"
#include "pagefl/net/wire_codec.h"

namespace pagefl::net {

struct ServiceSettings {
  bool tls = true;
  std::string config_toml;
  std::int64_t model_size = 0;
  std::int64_t num_classes = 0;
  std::vector<std::int64_t> sample_shape;
  std::int64_t max_update_bytes = 0;
  std::int64_t max_buffered_bytes = 0;  // across all concurrent uploads
  bool uploads_carry_model = true;      // false for local-only training, whose sites upload no model
  RobustConfig robust;                  // robust.max_update_norm is judged on arrival
};

class FederationService final : public wire::Federation::Service {
 public:
  FederationService(ServiceSettings settings, RoundCoordinator& coordinator, AuditLog& audit)
      : settings_(std::move(settings)),
        coordinator_(coordinator),
        audit_(audit),
        budget_(settings_.max_buffered_bytes) {}

  grpc::Status Join(grpc::ServerContext* context, const wire::JoinRequest* request, wire::JoinReply* reply) override;
  grpc::Status FetchRound(grpc::ServerContext* context, const wire::FetchRequest* request,
                          grpc::ServerWriter<wire::Chunk>* writer) override;
  grpc::Status SubmitUpdate(grpc::ServerContext* context, grpc::ServerReader<wire::Chunk>* reader,
                            wire::SubmitReply* reply) override;

 private:
  // The caller's client index, or the status refusing it. `claimed` is the id the request names.
  grpc::Status identify(const grpc::ServerContext& context, const std::string& claimed, std::int64_t& client) const;
  grpc::Status refuseUpdate(const std::string& client, std::int64_t client_index, std::int64_t round,
                            std::int64_t bytes, const std::string& sha256, const std::string& reason,
                            wire::SubmitReply* reply);
  // Reads, checks and offers one update stream; SubmitUpdate catches what it throws.
  grpc::Status receiveUpdate(grpc::ServerContext& context, grpc::ServerReader<wire::Chunk>& reader,
                             wire::SubmitReply& reply, std::int64_t& client, std::int64_t& round, std::string& name,
                             std::int64_t& bytes);

  ServiceSettings settings_;
  RoundCoordinator& coordinator_;
  AuditLog& audit_;
  UploadBudget budget_;
  // The open round's message as the wire carries it, encoded once for every site that fetches it.
  std::shared_ptr<const WireMessage> encodedFor(const std::shared_ptr<const ServerMessage>& message);
  std::mutex encoded_mutex_;
  std::shared_ptr<const ServerMessage> encoded_source_;
  std::shared_ptr<const WireMessage> encoded_;
};

}  // namespace pagefl::net
