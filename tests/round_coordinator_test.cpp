// The deployed server's round coordinator, driven directly with a hand-moved clock: who is
// offered a round, which updates it takes, what a closed round reports, and when a site counts as
// gone. The process-level deployment tests cover the same cases end to end.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <future>
#include <thread>

#include "pagefl/core/error.h"
#include "pagefl/net/round_coordinator.h"

namespace pagefl::net {
namespace {

using namespace std::chrono_literals;

ClientUpdate updateOf(std::int64_t client, std::int64_t round) {
  ClientUpdate update;
  update.client = client;
  update.round = round;
  return update;
}

std::shared_ptr<const ServerMessage> messageOf(std::int64_t round) {
  auto message = std::make_shared<ServerMessage>();
  message->round = round;
  message->global = torch::zeros({3});
  return message;
}

// A clock the test moves by hand.
struct ManualClock {
  Clock::time_point now = Clock::time_point{} + std::chrono::hours(1);
  RoundCoordinator::Now reader() {
    return [this] { return now; };
  }
};

const auto accept = [] {};

TEST(RoundCoordinator, OnlyJoinedSitesHeardFromWithinTheTimeoutAreLive) {
  ManualClock clock;
  RoundCoordinator coordinator({"a", "b", "c"}, 30s, clock.reader());
  coordinator.join(0, 10, 5);
  coordinator.join(2, 10, 5);
  EXPECT_EQ(coordinator.liveClients(), (std::vector<std::int64_t>{0, 2}));
  clock.now += 20s;
  coordinator.fetch(2, 0ms);  // a poll counts as being heard from
  clock.now += 15s;
  EXPECT_EQ(coordinator.liveClients(), std::vector<std::int64_t>{2});
  EXPECT_FALSE(coordinator.hasJoined(1));
}

TEST(RoundCoordinator, OffersTheRoundToItsParticipantsOnly) {
  RoundCoordinator coordinator({"a", "b"}, 30s);
  EXPECT_EQ(coordinator.fetch(0, 0ms).work, Work::Wait);  // between rounds
  coordinator.openRound({1}, messageOf(4));
  const Assignment outsider = coordinator.fetch(0, 0ms);
  EXPECT_EQ(outsider.work, Work::Wait);
  EXPECT_NE(outsider.note.find("runs without this site"), std::string::npos);
  const Assignment participant = coordinator.fetch(1, 0ms);
  ASSERT_EQ(participant.work, Work::Train);
  EXPECT_EQ(participant.message->round, 4);
  EXPECT_TRUE(coordinator.globalOf(4).defined());
  EXPECT_FALSE(coordinator.globalOf(3).defined());
}

TEST(RoundCoordinator, RefusesUpdatesForAnotherRoundFromOutsidersAndTwiceFromTheSameSite) {
  RoundCoordinator coordinator({"a", "b", "c"}, 30s);
  coordinator.openRound({0, 1}, messageOf(2));
  EXPECT_NE(coordinator.offer(updateOf(0, 1), accept)->find("round 2 is open"), std::string::npos);
  EXPECT_NE(coordinator.offer(updateOf(2, 2), accept)->find("not sampled"), std::string::npos);
  EXPECT_EQ(coordinator.offer(updateOf(0, 2), accept), std::nullopt);
  EXPECT_NE(coordinator.offer(updateOf(0, 2), accept)->find("already accepted"), std::string::npos);
  const Assignment after = coordinator.fetch(0, 0ms);
  EXPECT_EQ(after.work, Work::Wait);
  EXPECT_NE(after.note.find("update is in"), std::string::npos);
}

TEST(RoundCoordinator, TheDeadlineClosesTheRoundAndNamesTheStragglers) {
  ManualClock clock;
  RoundCoordinator coordinator({"a", "b", "c"}, 30s, clock.reader());
  coordinator.openRound({0, 1, 2}, messageOf(1));
  EXPECT_EQ(coordinator.offer(updateOf(1, 1), accept), std::nullopt);
  coordinator.noteRejected(2, 1, "it holds NaN");
  auto waiting = std::async(std::launch::async, [&] { coordinator.waitForUpdates(clock.now + 60s, [] { return false; }); });
  EXPECT_EQ(waiting.wait_for(300ms), std::future_status::timeout);  // the deadline has not come
  clock.now += 61s;
  EXPECT_EQ(waiting.wait_for(10s), std::future_status::ready);
  const ClosedRound closed = coordinator.closeRound();
  ASSERT_EQ(closed.updates.size(), 1u);
  EXPECT_EQ(closed.updates[0].client, 1);
  EXPECT_EQ(closed.stragglers, (std::vector<std::int64_t>{0, 2}));
  ASSERT_EQ(closed.rejected.size(), 1u);
  EXPECT_EQ(closed.rejected[0].client, 2);
  // Too late: the round is closed and the next not open.
  EXPECT_NE(coordinator.offer(updateOf(0, 1), accept)->find("is closed"), std::string::npos);
}

TEST(RoundCoordinator, WaitingEndsAsSoonAsEveryParticipantIsInOrTheStopSaysSo) {
  ManualClock clock;
  RoundCoordinator coordinator({"a", "b"}, 30s, clock.reader());
  coordinator.openRound({0, 1}, messageOf(1));
  auto waiting = std::async(std::launch::async, [&] { coordinator.waitForUpdates(clock.now + 1h, [] { return false; }); });
  EXPECT_EQ(coordinator.offer(updateOf(0, 1), accept), std::nullopt);
  EXPECT_EQ(coordinator.offer(updateOf(1, 1), accept), std::nullopt);
  EXPECT_EQ(waiting.wait_for(10s), std::future_status::ready);
  coordinator.closeRound();

  coordinator.openRound({0, 1}, messageOf(2));
  std::atomic<bool> stop = false;
  auto stopped = std::async(std::launch::async, [&] { coordinator.waitForUpdates(clock.now + 1h, [&] { return stop.load(); }); });
  stop = true;
  EXPECT_EQ(stopped.wait_for(10s), std::future_status::ready);
}

TEST(RoundCoordinator, AFinishedRunTellsEverySiteItIsDone) {
  RoundCoordinator coordinator({"a"}, 30s);
  coordinator.openRound({0}, messageOf(1));
  coordinator.closeRound();
  coordinator.finish();
  EXPECT_EQ(coordinator.fetch(0, 0ms).work, Work::Done);
  EXPECT_NE(coordinator.offer(updateOf(0, 1), accept)->find("complete"), std::string::npos);
}

TEST(RoundCoordinator, AWaitingSiteIsHandedTheRoundTheMomentItOpens) {
  RoundCoordinator coordinator({"a"}, 30s);
  auto fetching = std::async(std::launch::async, [&] { return coordinator.fetch(0, 30s); });
  std::this_thread::sleep_for(50ms);
  coordinator.openRound({0}, messageOf(1));
  ASSERT_EQ(fetching.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(fetching.get().work, Work::Train);
}


TEST(RoundCoordinator, ASlowAuditWriteStallsNoOtherSiteAndTheRoundWaitsForIt) {
  RoundCoordinator coordinator({"a", "b"}, std::chrono::seconds(30));
  coordinator.openRound({0, 1}, messageOf(1));
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto slow = std::async(std::launch::async, [&] {
    return coordinator.offer(updateOf(0, 1), [&] { released.wait(); });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Site b is served while a's audit write is stuck; a's duplicate is refused as already in.
  EXPECT_EQ(coordinator.offer(updateOf(1, 1), [] {}), std::nullopt);
  EXPECT_NE(coordinator.offer(updateOf(0, 1), [] {})->find("already accepted"), std::string::npos);
  auto closing = std::async(std::launch::async, [&] { return coordinator.closeRound(); });
  EXPECT_EQ(closing.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  release.set_value();
  EXPECT_EQ(slow.get(), std::nullopt);
  const ClosedRound closed = closing.get();
  EXPECT_EQ(closed.updates.size(), 2u);
  EXPECT_TRUE(closed.stragglers.empty());
  // After the round closed, a late duplicate is named as such, not as a missed deadline.
  EXPECT_NE(coordinator.offer(updateOf(1, 1), [] {})->find("already accepted"), std::string::npos);
}

TEST(RoundCoordinator, AFailedAuditWriteDropsTheUpdate) {
  RoundCoordinator coordinator({"a"}, std::chrono::seconds(30));
  coordinator.openRound({0}, messageOf(1));
  EXPECT_THROW(coordinator.offer(updateOf(0, 1), [] { throw Error("the audit log was deleted"); }), Error);
  const ClosedRound closed = coordinator.closeRound();
  EXPECT_TRUE(closed.updates.empty());
  EXPECT_EQ(closed.stragglers, std::vector<std::int64_t>{0});
}

TEST(RoundCoordinator, ASiteWhoseUpdateWasRefusedIsNotOfferedTheRoundAgain) {
  RoundCoordinator coordinator({"a"}, std::chrono::seconds(30));
  coordinator.openRound({0}, messageOf(1));
  EXPECT_EQ(coordinator.fetch(0, std::chrono::milliseconds(0)).work, Work::Train);
  coordinator.noteRejected(0, 1, "its distance from the global model exceeds robust.max_update_norm");
  const Assignment after = coordinator.fetch(0, std::chrono::milliseconds(0));
  EXPECT_EQ(after.work, Work::Wait);
  EXPECT_NE(after.note.find("was refused"), std::string::npos);
  coordinator.closeRound();
  coordinator.openRound({0}, messageOf(2));
  EXPECT_EQ(coordinator.fetch(0, std::chrono::milliseconds(0)).work, Work::Train);
}

}  // namespace
}  // namespace pagefl::net
