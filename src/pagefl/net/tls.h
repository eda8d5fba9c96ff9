// Transport security: mutual TLS from PEM files (a CA that signs every party, a certificate and
// key per party), or plaintext when a config says so, for tests on one machine.
#pragma once

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_context.h>

#include <memory>
#include <optional>
#include <string>

namespace pagefl::net {

struct TlsFiles {
  bool enabled = true;
  std::string ca, cert, key;  // PEM paths
};

// Servers require and verify a client certificate signed by `ca`. Throws pagefl::Error naming a
// missing or unreadable file.
std::shared_ptr<grpc::ServerCredentials> serverCredentials(const TlsFiles& files);
std::shared_ptr<grpc::ChannelCredentials> channelCredentials(const TlsFiles& files);

// Sets up gRPC for pagefl's processes: its log lines (TLS handshake failures among them) go to
// pagefl's log, explained, and protobuf's at a bounded rate (net/protobuf_log.h); names resolve
// through the system's resolver (/etc/hosts, nsswitch) rather than gRPC's own DNS client, which
// cannot resolve "localhost" on a machine without a DNS server. A GRPC_DNS_RESOLVER already set is
// respected.
void configureGrpc();

// The common name of the verified client certificate, or nothing on a plaintext connection.
std::optional<std::string> peerCommonName(const grpc::ServerContext& context);

}  // namespace pagefl::net
