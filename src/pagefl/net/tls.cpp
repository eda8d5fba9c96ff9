#include "pagefl/net/tls.h"

#include <grpc/support/log.h>
#include <grpcpp/security/auth_context.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include "pagefl/core/error.h"
#include "pagefl/core/sealed_file.h"
#include "pagefl/fl/state_archive.h"
#include "pagefl/net/protobuf_log.h"

namespace pagefl::net {
namespace {

std::string readPem(const std::string& path, const char* what) {
  if (path.empty())
    throw Error("TLS needs the {} (a PEM file); create one with scripts/make-certs.sh, or turn TLS off for a local "
                "test (deploy.tls = false on the server, --insecure on clients)",
                what);
  std::string pem = readWholeFile(path, what);
  if (pem.find("-----BEGIN") == std::string::npos) throw Error("{} '{}' is not a PEM file", what, path);
  return pem;
}

void logGrpcLine(gpr_log_func_args* args) {
  const std::string message = args->message;
  if (message.find("Handshake failed") != std::string::npos) {
    spdlog::warn("refused a TLS connection: {} (a peer without a certificate signed by the federation's CA, or "
                 "one that does not trust this party's certificate)",
                 message);
  } else if (args->severity == GPR_LOG_SEVERITY_ERROR) {
    spdlog::error("gRPC: {}", message);
  } else {
    spdlog::debug("gRPC: {}", message);
  }
}

}  // namespace

void configureGrpc() {
  gpr_set_log_function(logGrpcLine);
  routeProtobufLogsToSpdlog();
  setenv("GRPC_DNS_RESOLVER", "native", /*overwrite=*/0);
}

std::shared_ptr<grpc::ServerCredentials> serverCredentials(const TlsFiles& files) {
  if (!files.enabled) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = readPem(files.ca, "CA certificate (deploy.ca)");
  options.pem_key_cert_pairs.push_back(
      {readPem(files.key, "server key (deploy.key)"), readPem(files.cert, "server certificate (deploy.cert)")});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> channelCredentials(const TlsFiles& files) {
  if (!files.enabled) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = readPem(files.ca, "CA certificate (--ca)");
  options.pem_private_key = readPem(files.key, "client key (--key)");
  options.pem_cert_chain = readPem(files.cert, "client certificate (--cert)");
  return grpc::SslCredentials(options);
}

std::optional<std::string> peerCommonName(const grpc::ServerContext& context) {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return std::nullopt;
  for (const grpc::string_ref& name : auth->FindPropertyValues("x509_common_name"))
    return std::string(name.data(), name.size());
  return std::nullopt;
}

}  // namespace pagefl::net
