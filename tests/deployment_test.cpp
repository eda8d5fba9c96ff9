// The deployment end to end: real `pagefl server` and `pagefl client` processes on loopback.
#include <fmt/format.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <filesystem>
#include <limits>
#include <sstream>

#include "deployment_support.h"
#include "pagefl/core/sha256.h"
#include "pagefl/modelfile/model_export.h"
#include "pagefl/modelfile/model_file.h"
#include "pagefl/net/proto/federation.grpc.pb.h"
#include "pagefl/net/wire_codec.h"

namespace pagefl::testing {
namespace {

using std::chrono::seconds;
namespace fs = std::filesystem;

// The simulator on the federation's config and overrides, as run.name = simulated. Sites train
// one at a time, so it is compared with the per-client path (stacked clients agree only to
// float rounding).
void simulateFederation(const TempDir& dir, const Federation& federation, const std::vector<std::string>& overrides) {
  std::vector<std::string> simulate = {"run", "--config", federation.config, "run.name=simulated"};
  simulate.insert(simulate.end(), overrides.begin(), overrides.end());
  simulate.emplace_back("run.batched_clients=off");
  Process simulator(simulate, dir.file("simulator.log"));
  ASSERT_EQ(simulator.wait(seconds(120)), 0) << simulator.output();
}

// Server, sites and the simulator on the same config and overrides; returns the directories of
// the deployed run and of the simulated one.
std::pair<std::string, std::string> deployAndSimulate(const TempDir& dir, const Federation& federation,
                                                      const std::vector<std::string>& overrides) {
  Process server(serverArgs(federation, overrides), dir.file("server.log"));
  std::vector<std::unique_ptr<Process>> sites;
  for (const std::string& site : federation.sites)
    sites.push_back(std::make_unique<Process>(clientArgs(federation, dir, site), dir.file(std::string(site) + ".log")));
  EXPECT_EQ(server.wait(seconds(120)), 0) << server.output();
  for (auto& site : sites) EXPECT_EQ(site->wait(seconds(30)), 0) << site->output();

  simulateFederation(dir, federation, overrides);
  return {federation.runs + "/deployed", federation.runs + "/simulated"};
}

void expectSameMetrics(const std::string& deployed, const std::string& simulated) {
  EXPECT_EQ(readFile(deployed + "/rounds.jsonl"), readFile(simulated + "/rounds.jsonl"));
  EXPECT_EQ(readFile(deployed + "/clients.jsonl"), readFile(simulated + "/clients.jsonl"));
  EXPECT_FALSE(readFile(deployed + "/rounds.jsonl").empty());
}


TEST(Deployment, FedAvgOverLoopbackEqualsTheSimulator) {
  TempDir dir;
  const Federation federation = makeFederation(dir);
  const auto [deployed, simulated] = deployAndSimulate(dir, federation, {"algorithm.name=fedavg"});
  expectSameMetrics(deployed, simulated);
  // The model sent in round 2 is the one aggregated in round 1, by their hashes in the audit log.
  const std::string audit = deployed + "/audit.sqlite";
  EXPECT_EQ(auditRows(audit, "SELECT sha256 FROM models WHERE round=1 AND kind='aggregated'"),
            auditRows(audit, "SELECT sha256 FROM models WHERE round=2 AND kind='sent'"));
  EXPECT_EQ(auditRows(audit, "SELECT 1 FROM updates WHERE status='applied'").size(), 16u);
  // The global model it hands over is the last round's aggregate, and the audit log knows the file.
  const LoadedModel exported = readModelFile(globalModelPath(deployed));
  EXPECT_EQ(auditRows(audit, "SELECT sha256 FROM models WHERE round=4 AND kind='aggregated'"),
            std::vector<std::string>{exported.info.parameters_sha256});
  EXPECT_EQ(auditRows(audit, "SELECT sha256 FROM models WHERE kind='exported (models/global.safetensors)'"),
            std::vector<std::string>{sha256Hex(readFile(globalModelPath(deployed)))});
  // The server's addresses and site names stay with the server.
  EXPECT_EQ(exported.info.config.find(federation.address), std::string::npos);
  EXPECT_TRUE(parseConfig(exported.info.config).deploy.clients.empty());
  // Each site keeps its own personalised model; the server holds none.
  const LoadedModel site_model = readModelFile(dir.file("state-client_1/models/personal.safetensors"));
  EXPECT_EQ(site_model.info.kind, "personal");
  EXPECT_EQ(site_model.info.client, 1);
  EXPECT_FALSE(fs::exists(deployed + "/models/personal"));
  EXPECT_EQ(auditRows(audit, "SELECT sha256 FROM models WHERE kind LIKE 'personal, kept by client_1%'"),
            std::vector<std::string>{sha256Hex(readFile(dir.file("state-client_1/models/personal.safetensors")))});
  // The deployed run is a run directory like any other: the report takes it.
  Process report({"report", federation.runs}, dir.file("report.log"));
  EXPECT_EQ(report.wait(seconds(60)), 0) << report.output();
  EXPECT_TRUE(fs::exists(federation.runs + "/report.html")) << report.output();
}

TEST(Deployment, PageOverLoopbackEqualsTheSimulator) {
  TempDir dir;
  const Federation federation = makeFederation(dir);
  // Half the sites each round: the server samples among connected sites as the simulator does.
  const auto [deployed, simulated] =
      deployAndSimulate(dir, federation, {"algorithm.name=page", "run.rounds=6", "algorithm.participation=0.5"});
  expectSameMetrics(deployed, simulated);
  EXPECT_NE(readFile(deployed + "/rounds.jsonl").find(R"("participants":2)"), std::string::npos);
  // Each site's agent lives on its own disk, not on the server.
  EXPECT_TRUE(fs::exists(dir.file("state-client_0/state.pt")));
}

TEST(Deployment, KilledSiteIsDroppedAtTheDeadlineAndRejoinsWithItsAgent) {
  TempDir dir;
  const Federation federation = makeFederation(dir);
  // Rounds start with all four sites; two updates by the deadline complete one.
  const std::vector<std::string> overrides = {"algorithm.name=page", "run.rounds=6", "deploy.round_deadline_s=3",
                                              "deploy.min_updates=2"};
  Process server(serverArgs(federation, overrides), dir.file("server.log"));
  std::vector<std::unique_ptr<Process>> sites;
  for (const char* site : {"client_0", "client_1", "client_3"})
    sites.push_back(std::make_unique<Process>(clientArgs(federation, dir, site), dir.file(std::string(site) + ".log")));
  auto stalled =
      std::make_unique<Process>(stallingAt(clientArgs(federation, dir, "client_2"), 2), dir.file("client_2.log"));
  ASSERT_TRUE(stalled->waitForOutput("stalling in round", seconds(60))) << stalled->output();
  const std::string stall_log = stalled->output();
  const int round = std::stoi(stall_log.substr(stall_log.find("stalling in round ") + 18));
  stalled->signal(SIGKILL);
  stalled->wait(seconds(5));

  ASSERT_TRUE(server.waitForOutput("no update by the deadline from client_2", seconds(30))) << server.output();
  ASSERT_TRUE(server.waitForOutput(fmt::format("round {}/6: 3 update(s) aggregated", round), seconds(10)))
      << server.output();
  Process restarted(clientArgs(federation, dir, "client_2"), dir.file("client_2-restarted.log"));
  EXPECT_EQ(server.wait(seconds(120)), 0) << server.output();
  EXPECT_EQ(restarted.wait(seconds(30)), 0) << restarted.output();
  // It came back with its agent and took part again.
  EXPECT_NE(restarted.output().find("restored this site's state"), std::string::npos) << restarted.output();
  const std::string audit = federation.runs + "/deployed/audit.sqlite";
  EXPECT_TRUE(auditRows(audit, fmt::format("SELECT 1 FROM updates WHERE client='client_2' AND round={} AND "
                                           "status='applied'", round))
                  .empty());
  EXPECT_FALSE(auditRows(audit, fmt::format("SELECT 1 FROM updates WHERE client='client_2' AND round>{} AND "
                                            "status='applied'", round))
                   .empty());
  // The round it missed went on without it; PAGE's weights cover the sites that answered and sum to 1.
  std::istringstream lines(readFile(federation.runs + "/deployed/rounds.jsonl"));
  std::string line;
  for (int i = 0; i < round; ++i) std::getline(lines, line);
  const nlohmann::json missed = nlohmann::json::parse(line);
  ASSERT_EQ(missed["round"], round);
  EXPECT_FALSE(missed["server"].contains("weight/2"));
  double total = 0;
  for (const auto& [key, value] : missed["server"].items())
    if (key.starts_with("weight/")) total += value.get<double>();
  EXPECT_NEAR(total, 1.0, 1e-9);
  EXPECT_EQ(missed["participants"].get<int>(), 3);
}

TEST(Deployment, SiteRestartedWithinItsRoundSendsItsSavedUpdateAndTheRunIsUnchanged) {
  TempDir dir;
  const Federation federation = makeFederation(dir);
  const std::vector<std::string> overrides = {"algorithm.name=page", "run.rounds=4"};
  Process server(serverArgs(federation, overrides), dir.file("server.log"));
  std::vector<std::unique_ptr<Process>> sites;
  for (const char* site : {"client_0", "client_1", "client_3"})
    sites.push_back(std::make_unique<Process>(clientArgs(federation, dir, site), dir.file(std::string(site) + ".log")));
  {
    Process stalled(stallingAt(clientArgs(federation, dir, "client_2"), 2), dir.file("client_2.log"));
    ASSERT_TRUE(stalled.waitForOutput("stalling in round 2", seconds(60))) << stalled.output();
  }  // killed after it trained and saved, before it sent
  Process restarted(clientArgs(federation, dir, "client_2"), dir.file("client_2-restarted.log"));
  ASSERT_EQ(server.wait(seconds(120)), 0) << server.output();
  EXPECT_EQ(restarted.wait(seconds(30)), 0) << restarted.output();
  EXPECT_NE(restarted.output().find("round 2: sending the update saved before a restart"), std::string::npos)
      << restarted.output();
  // Its agent advanced once for round 2, so the run is the uninterrupted one.
  simulateFederation(dir, federation, overrides);
  expectSameMetrics(federation.runs + "/deployed", federation.runs + "/simulated");
}

TEST(Deployment, ServerStoppedOrKilledAndResumedLosesAndRepeatsNoUpdate) {
  TempDir dir;
  const Federation federation = makeFederation(dir);
  const std::vector<std::string> overrides = {"run.rounds=12", "deploy.round_deadline_s=60"};
  std::vector<std::string> resume = overrides;
  resume.insert(resume.begin(), "--resume");
  std::vector<std::unique_ptr<Process>> sites;
  for (const char* site : {"client_0", "client_1", "client_2"})
    sites.push_back(std::make_unique<Process>(clientArgs(federation, dir, site), dir.file(std::string(site) + ".log")));
  // client_3 hangs in a chosen round, so each signal reaches the server in the middle of a round.
  auto stallingSite = [&](int round) {
    return std::make_unique<Process>(stallingAt(clientArgs(federation, dir, "client_3"), round),
                                     dir.file(fmt::format("client_3-{}.log", round)));
  };
  {
    // SIGTERM in round 5: a clean stop, checkpointed after round 4.
    Process server(serverArgs(federation, overrides), dir.file("server.log"));
    auto site = stallingSite(5);
    ASSERT_TRUE(site->waitForOutput("stalling in round 5", seconds(60))) << server.output();
    server.signal(SIGTERM);
    ASSERT_EQ(server.wait(seconds(30)), 0) << server.output();
    EXPECT_NE(server.output().find("stopped after round 4; continue with: pagefl server --config"), std::string::npos)
        << server.output();
  }
  {
    // SIGKILL in round 9: no chance to clean up; the checkpoint of round 8 is all there is.
    Process server(serverArgs(federation, resume), dir.file("server-resumed.log"));
    auto site = stallingSite(9);
    ASSERT_TRUE(site->waitForOutput("stalling in round 9", seconds(60))) << server.output();
    server.signal(SIGKILL);
    server.wait(seconds(5));
  }
  Process resumed(serverArgs(federation, resume), dir.file("server-resumed-again.log"));
  Process site(clientArgs(federation, dir, "client_3"), dir.file("client_3.log"));
  ASSERT_EQ(resumed.wait(seconds(120)), 0) << resumed.output();
  EXPECT_NE(resumed.output().find("resumed from the checkpoint of round 8"), std::string::npos) << resumed.output();
  EXPECT_EQ(site.wait(seconds(30)), 0) << site.output();
  for (auto& other : sites) EXPECT_EQ(other->wait(seconds(30)), 0) << other->output();

  const std::string audit = federation.runs + "/deployed/audit.sqlite";
  // Every round applied exactly one update of each site: none lost, none applied twice.
  EXPECT_TRUE(auditRows(audit, "SELECT client, round FROM updates WHERE status='applied' GROUP BY client, round "
                               "HAVING COUNT(*) > 1").empty());
  EXPECT_EQ(auditRows(audit, "SELECT DISTINCT client || '/' || round FROM updates WHERE status='applied'").size(), 48u);
  // The updates that arrived in the interrupted rounds 5 and 9 were discarded, never applied.
  EXPECT_FALSE(auditRows(audit, "SELECT 1 FROM updates WHERE round IN (5, 9) AND status='discarded'").empty());
  EXPECT_EQ(auditRows(audit, "SELECT 1 FROM events WHERE kind='resume'").size(), 2u);

  // FedAvg's sites keep no state, so the twice-resumed run equals an uninterrupted simulation.
  simulateFederation(dir, federation, overrides);
  expectSameMetrics(federation.runs + "/deployed", federation.runs + "/simulated");
}

// A hand-driven site that sends what a real one never would.
class RogueSite {
 public:
  RogueSite(const std::string& address, const std::string& name)
      : name_(name), stub_(wire::Federation::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {}

  wire::JoinReply join(std::int64_t features) {
    grpc::ClientContext context;
    context.set_wait_for_ready(true);  // the server may still be loading its test set
    context.set_deadline(std::chrono::system_clock::now() + seconds(60));
    wire::JoinRequest request;
    request.set_client_id(name_);
    request.set_train_samples(10);
    request.set_test_samples(10);
    request.add_sample_shape(features);
    wire::JoinReply reply;
    EXPECT_TRUE(stub_->Join(&context, request, &reply).ok());
    return reply;
  }

  net::WireMessage fetchRound() {
    for (;;) {
      grpc::ClientContext context;
      wire::FetchRequest request;
      request.set_client_id(name_);
      auto reader = stub_->FetchRound(&context, request);
      net::ChunkAssembler assembler(std::int64_t{1} << 30);
      wire::Chunk chunk;
      while (reader->Read(&chunk)) assembler.add(chunk);
      EXPECT_TRUE(reader->Finish().ok());
      net::WireMessage message = assembler.finish();
      if (message.header.work() == wire::TRAIN) return message;
    }
  }

  // Sends `header` and then `payload` in one data chunk; returns the server's reply.
  wire::SubmitReply submit(const wire::Header& header, const std::string& payload) {
    grpc::ClientContext context;
    wire::SubmitReply reply;
    auto writer = stub_->SubmitUpdate(&context, &reply);
    wire::Chunk chunk;
    *chunk.mutable_header() = header;
    writer->Write(chunk);
    if (!payload.empty()) {
      chunk.set_data(payload);
      writer->Write(chunk);
    }
    writer->WritesDone();
    EXPECT_TRUE(writer->Finish().ok());
    return reply;
  }

 private:
  std::string name_;
  std::unique_ptr<wire::Federation::Stub> stub_;
};

TEST(Deployment, MalformedUpdatesAreRefusedAndTheServerKeepsServing) {
  TempDir dir;
  const Federation federation = makeFederation(dir);
  Process server(serverArgs(federation, {"run.rounds=2", "deploy.max_update_mb=1"}), dir.file("server.log"));
  std::vector<std::unique_ptr<Process>> sites;
  for (const char* site : {"client_0", "client_1", "client_2"})
    sites.push_back(std::make_unique<Process>(clientArgs(federation, dir, site), dir.file(std::string(site) + ".log")));

  RogueSite rogue(federation.address, "client_3");
  const wire::JoinReply joined = rogue.join(10);
  const net::WireMessage round = rogue.fetchRound();
  const std::int64_t size = joined.model_size();
  ASSERT_GT(size, 0);

  ClientUpdate update;
  update.round = round.header.round();
  update.num_samples = 10;
  update.params = torch::zeros({size - 1});
  net::WireMessage wrong_shape = net::encodeUpdate(update, "client_3");
  wire::SubmitReply reply = rogue.submit(wrong_shape.header, wrong_shape.payload);
  EXPECT_FALSE(reply.accepted());
  EXPECT_NE(reply.reason().find("shape"), std::string::npos) << reply.reason();

  update.params = torch::zeros({size});
  update.params[3] = std::numeric_limits<float>::quiet_NaN();
  net::WireMessage with_nan = net::encodeUpdate(update, "client_3");
  reply = rogue.submit(with_nan.header, with_nan.payload);
  EXPECT_FALSE(reply.accepted());
  EXPECT_NE(reply.reason().find("NaN"), std::string::npos) << reply.reason();

  wire::Header oversized = with_nan.header;
  oversized.set_payload_bytes(std::int64_t{3} << 20);
  reply = rogue.submit(oversized, "");
  EXPECT_FALSE(reply.accepted());
  EXPECT_NE(reply.reason().find("over the limit"), std::string::npos) << reply.reason();

  update.params = torch::zeros({size});
  net::WireMessage sound = net::encodeUpdate(update, "client_3");
  reply = rogue.submit(sound.header, sound.payload.substr(0, sound.payload.size() / 2));
  EXPECT_FALSE(reply.accepted());
  EXPECT_NE(reply.reason().find("truncated"), std::string::npos) << reply.reason();

  // An update without the model must not take the site's place in the round.
  ClientUpdate empty;
  empty.round = update.round;
  empty.num_samples = 10;
  net::WireMessage no_model = net::encodeUpdate(empty, "client_3");
  reply = rogue.submit(no_model.header, no_model.payload);
  EXPECT_FALSE(reply.accepted());
  EXPECT_NE(reply.reason().find("no model parameters"), std::string::npos) << reply.reason();

  // More samples than the site declared at Join would outweigh every other site.
  update.num_samples = 1'000'000'000'000'000'000;
  net::WireMessage inflated = net::encodeUpdate(update, "client_3");
  reply = rogue.submit(inflated.header, inflated.payload);
  EXPECT_FALSE(reply.accepted());
  EXPECT_NE(reply.reason().find("but the site declared 10 when it joined"), std::string::npos) << reply.reason();
  update.num_samples = 10;

  // Shapes whose element count overflows 64 bits, with an empty payload.
  wire::Header overflowing = sound.header;
  overflowing.mutable_tensors(0)->clear_shape();
  for (int d = 0; d < 3; ++d) overflowing.mutable_tensors(0)->add_shape(std::int64_t{1} << 40);
  overflowing.set_payload_bytes(0);
  reply = rogue.submit(overflowing, "");
  EXPECT_FALSE(reply.accepted());
  EXPECT_NE(reply.reason().find("larger than the 0 bytes of payload left"), std::string::npos) << reply.reason();

  reply = rogue.submit(sound.header, sound.payload);
  EXPECT_TRUE(reply.accepted()) << reply.reason();

  // Round 2 goes on without the rogue (it does not fetch again) once the deadline passes... so
  // let it answer round 2 soundly too.
  const net::WireMessage second = rogue.fetchRound();
  update.round = second.header.round();
  net::WireMessage sound2 = net::encodeUpdate(update, "client_3");
  EXPECT_TRUE(rogue.submit(sound2.header, sound2.payload).accepted());

  ASSERT_EQ(server.wait(seconds(60)), 0) << server.output();
  const std::string log = server.output();
  std::size_t refusals = 0;
  for (std::size_t at = log.find("refused the round-1 update of site 'client_3'"); at != std::string::npos;
       at = log.find("refused the round-1 update of site 'client_3'", at + 1))
    ++refusals;
  EXPECT_EQ(refusals, 7u) << log;
  const std::string audit = federation.runs + "/deployed/audit.sqlite";
  EXPECT_EQ(auditRows(audit, "SELECT reason FROM updates WHERE status='rejected'").size(), 7u);
  EXPECT_EQ(auditRows(audit, "SELECT client FROM updates WHERE status='applied' AND client='client_3'").size(), 2u);
  const std::string rounds = readFile(federation.runs + "/deployed/rounds.jsonl");
  EXPECT_NE(rounds.find(R"("participants":4)"), std::string::npos) << rounds;
}

TEST(Deployment, MutualTlsRefusesSitesWithoutAValidCertificate) {
  TempDir dir;
  const Federation federation = makeFederation(dir);
  std::string output;
  const std::string certs = dir.file("certs"), foreign = dir.file("foreign");
  ASSERT_EQ(runCommand(fmt::format("{}/scripts/make-certs.sh {} localhost client_0 client_1 client_2 client_3 intruder",
                                   PAGEFL_SOURCE_DIR, certs),
                       output),
            0)
      << output;
  ASSERT_EQ(runCommand(fmt::format("{}/scripts/make-certs.sh {} localhost client_0", PAGEFL_SOURCE_DIR, foreign), output), 0)
      << output;
  // Dialled by IP (the server certificate names 127.0.0.1 too): a minimal machine may lack /etc/hosts.
  const std::string address = federation.address;
  const std::string port = address.substr(address.find(':') + 1);
  Process server(serverArgs(federation, {"run.rounds=2", "deploy.tls=true", "deploy.ca=" + certs + "/ca.pem",
                                         "deploy.cert=" + certs + "/server.pem", "deploy.key=" + certs + "/server.key"}),
                 dir.file("server.log"));
  // Every site trusts the federation's CA; `directory` holds the certificate it presents.
  auto tlsClient = [&](const std::string& id, const std::string& directory, const std::string& cert_name) {
    return std::vector<std::string>{"client", "--server", "127.0.0.1:" + port, "--id", id, "--data", federation.leaf,
                                    "--state", dir.file("state-" + id + cert_name), "--ca", certs + "/ca.pem",
                                    "--cert", directory + "/" + cert_name + ".pem", "--key",
                                    directory + "/" + cert_name + ".key", "--give-up-after", "3"};
  };
  // The refused sites give up after 3 s of failures, so they must not start before the server listens.
  ASSERT_TRUE(server.waitForOutput("server listening", seconds(60))) << server.output();
  // A certificate from another CA: the server refuses the handshake, the site gives up.
  Process foreign_site(tlsClient("client_0", foreign, "client_0"), dir.file("foreign.log"));
  EXPECT_NE(foreign_site.wait(seconds(60)), 0);
  EXPECT_NE(foreign_site.output().find("unreachable"), std::string::npos) << foreign_site.output();
  EXPECT_TRUE(server.waitForOutput("refused a TLS connection", seconds(10))) << server.output();
  // A valid certificate for a name the federation does not list (with data of its own).
  writeMnistLikeDataset(dir.file("intruder-data"), 20, 10, false);
  std::vector<std::string> intruder_args = tlsClient("intruder", certs, "intruder");
  intruder_args[6] = dir.file("intruder-data");
  Process intruder(intruder_args, dir.file("intruder.log"));
  EXPECT_NE(intruder.wait(seconds(30)), 0);
  EXPECT_NE(intruder.output().find("not in this federation"), std::string::npos) << intruder.output();
  // A valid certificate used to claim another site's name.
  Process impostor(tlsClient("client_1", certs, "client_0"), dir.file("impostor.log"));
  EXPECT_NE(impostor.wait(seconds(30)), 0);
  EXPECT_NE(impostor.output().find("your certificate is for 'client_0'"), std::string::npos) << impostor.output();

  // The server kept serving: the genuine sites complete the run.
  std::vector<std::unique_ptr<Process>> sites;
  for (const std::string& site : federation.sites)
    sites.push_back(std::make_unique<Process>(tlsClient(site, certs, site), dir.file(site + ".log")));
  ASSERT_EQ(server.wait(seconds(60)), 0) << server.output();
  for (auto& site : sites) EXPECT_EQ(site->wait(seconds(30)), 0) << site->output();
  EXPECT_NE(server.output().find("refused unknown site 'intruder'"), std::string::npos) << server.output();
  EXPECT_NE(server.output().find("its certificate is for 'client_0' but it claims to be 'client_1'"),
            std::string::npos);
}

}  // namespace
}  // namespace pagefl::testing

namespace pagefl::testing {
namespace {

// A site whose data does not fit the federation's model is told at once, not retried.
TEST(Deployment, SiteWithDataOfTheWrongShapeIsToldWhatIsWrong) {
  TempDir dir;
  const Federation federation = makeFederation(dir);
  Process server(serverArgs(federation), dir.file("server.log"));
  writeMnistLikeDataset(dir.file("images"), 20, 10, false);
  std::vector<std::string> args = clientArgs(federation, dir, "client_0");
  args[6] = dir.file("images");  // --data
  Process site(args, dir.file("site.log"));
  EXPECT_EQ(site.wait(seconds(30)), 2) << site.output();
  EXPECT_NE(site.output().find("this site's samples have shape [1, 28, 28] but the federation's model takes [10]"),
            std::string::npos)
      << site.output();
}

// Each mistake stops the server before it listens, with a message that names the fix.
TEST(Deployment, ServerRefusesUnusableSettingsWithAClearMessage) {
  TempDir dir;
  const Federation federation = makeFederation(dir);
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"deploy.clients=[]"}, "deploy.clients is empty"},
      {{"deploy.min_clients=5"}, "deploy.min_clients = 5 but deploy.clients lists only 4 sites"},
      {{"deploy.min_updates=6"}, "deploy.min_updates = 6 but deploy.clients lists only 4 sites"},
      {{"deploy.tls=true"}, "TLS needs the CA certificate (deploy.ca)"},
      {{"deploy.tls=true", "deploy.ca=" + dir.file("missing.pem")}, "cannot open CA certificate (deploy.ca)"},
      {{"eval.new_clients=0.25"}, "only the simulator can do"},
      {{"deploy.listen=nonsense:99999"}, "cannot listen on deploy.listen"},
      {{"--resume"}, "holds no checkpoint; start without --resume"},
  };
  for (const auto& [overrides, expected] : cases) {
    Process server(serverArgs(federation, overrides), dir.file("server.log"));
    EXPECT_EQ(server.wait(seconds(60)), 2) << server.output();
    EXPECT_NE(server.output().find(expected), std::string::npos) << server.output();
  }
}

}  // namespace
}  // namespace pagefl::testing
