// The DDPG agent: replay, learning a trivial control problem, checkpoint round trips.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>
#include <sstream>

#include "pagefl/core/error.h"
#include "pagefl/rl/ddpg_agent.h"

namespace pagefl::rl {
namespace {

at::Generator generator(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

TEST(ReplayBuffer, WrapsAroundOverwritingTheOldest) {
  ReplayBuffer replay(3, 1, 1);
  for (int i = 0; i < 5; ++i)
    replay.add(torch::tensor({float(i)}), torch::tensor({float(-i)}), i, torch::tensor({float(i + 1)}));
  EXPECT_EQ(replay.size(), 3);
  EXPECT_EQ(replay.position(), 2);
  EXPECT_FLOAT_EQ(replay.at(0).rewards.item<float>(), 3);
  EXPECT_FLOAT_EQ(replay.at(1).rewards.item<float>(), 4);
  EXPECT_FLOAT_EQ(replay.at(2).rewards.item<float>(), 2);
  EXPECT_FLOAT_EQ(replay.at(1).next_states.item<float>(), 5);
  std::mt19937_64 rng(1);
  auto batch = replay.sample(8, rng);
  EXPECT_EQ(batch.states.sizes(), (std::vector<std::int64_t>{8, 1}));
  EXPECT_TRUE(torch::equal(batch.actions, -batch.states));  // rows stay whole
  ReplayBuffer empty(2, 1, 1);
  EXPECT_THROW(empty.sample(1, rng), Error);
}

// A contextual bandit: state s ~ U[-1, 1], reward -(a - s/2)^2. A random policy's expected
// reward is about -0.42; the learnt policy must average above -0.01 over a grid of states.
TEST(DdpgAgent, LearnsATrivialOneDimensionalControlProblem) {
  DdpgOptions options;
  options.gamma = 0.0;
  options.critic_lr = 1e-2;
  options.actor_lr = 1e-3;
  options.tau = 0.05;
  options.warmup = 100;
  options.epsilon_decay_steps = 1500;
  options.noise.sigma = 2.0;
  DdpgAgent agent(options, generator(3));
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> uniform(-1, 1);
  double s = uniform(rng);
  for (int step = 0; step < 2500; ++step) {
    auto state = torch::tensor({float(s)});
    auto action = agent.act(state, rng, [&](std::mt19937_64& r) { return torch::tensor({float(uniform(r))}); })
                      .clamp(-1, 1);
    const double reward = -std::pow(action.item<double>() - s / 2, 2);
    const double next = uniform(rng);
    agent.remember(state, action, reward, torch::tensor({float(next)}));
    agent.update(rng);
    s = next;
  }
  double mean_reward = 0;
  for (int i = 0; i <= 20; ++i) {
    const double state = -1 + i * 0.1;
    mean_reward += -std::pow(agent.policy(torch::tensor({float(state)})).item<double>() - state / 2, 2) / 21;
  }
  EXPECT_GT(mean_reward, -0.01);
}

TEST(ReplayBuffer, DistinctSamplesNeverRepeatATransition) {
  ReplayBuffer replay(10, 1, 1);
  for (int i = 0; i < 6; ++i)
    replay.add(torch::tensor({float(i)}), torch::tensor({float(-i)}), i, torch::tensor({float(i + 1)}));
  std::mt19937_64 rng(4);
  for (int draw = 0; draw < 20; ++draw) {
    auto batch = replay.sampleDistinct(4, rng);
    ASSERT_EQ(batch.rewards.size(0), 4);
    std::set<float> rewards;
    for (std::int64_t i = 0; i < 4; ++i) rewards.insert(batch.rewards[i][0].item<float>());
    EXPECT_EQ(rewards.size(), 4u);                            // four different transitions
    EXPECT_TRUE(torch::equal(batch.actions, -batch.states));  // rows stay whole
  }
  // Asking for more than it holds gives each transition once.
  auto all = replay.sampleDistinct(32, rng);
  EXPECT_TRUE(torch::equal(std::get<0>(all.rewards.flatten().sort()), torch::arange(6, torch::kFloat32)));
  std::mt19937_64 a(7), b(7);
  EXPECT_TRUE(torch::equal(replay.sampleDistinct(3, a).rewards, replay.sampleDistinct(3, b).rewards));
  EXPECT_THROW(ReplayBuffer(2, 1, 1).sampleDistinct(1, rng), Error);
}

// Warm-up 3: acts 0-2 are random and the first update follows act 3, the policy's first. The
// published loop (`step <= warmup`) acts randomly once more: acts 0-3, first update after act 4.
TEST(DdpgAgent, WarmupCountsRandomActsAsThePublishedLoopDoes) {
  for (const bool inclusive : {false, true}) {
    DdpgOptions options;
    options.warmup = 3;
    options.inclusive_warmup = inclusive;
    options.batch_size = 2;
    DdpgAgent agent(options, generator(1));
    std::mt19937_64 rng(2);
    std::vector<int> random_acts, updates;
    for (int step = 0; step < 7; ++step) {
      bool drew = false;
      auto state = torch::tensor({0.1f * step});
      auto action = agent.act(state, rng, [&](std::mt19937_64&) { return drew = true, torch::tensor({0.5f}); });
      if (drew) random_acts.push_back(step);
      agent.remember(state, action.clamp(-1, 1), 1.0, state);
      if (agent.update(rng)) updates.push_back(step);
    }
    const int random = inclusive ? 4 : 3;
    EXPECT_EQ(random_acts.size(), static_cast<std::size_t>(random)) << inclusive;
    EXPECT_EQ(random_acts.back(), random - 1) << inclusive;
    EXPECT_EQ(updates.front(), random) << inclusive;
    EXPECT_EQ(updates.size(), static_cast<std::size_t>(7 - random)) << inclusive;
  }
}

// page.agent_updates: k updates per call are exactly k single updates in a row, on the same draws.
TEST(DdpgAgent, SeveralUpdatesPerCallAreThatManySingleUpdates) {
  DdpgOptions single;
  single.warmup = 2;
  single.batch_size = 3;
  DdpgOptions triple = single;
  triple.updates_per_call = 3;
  DdpgAgent one(single, generator(4)), three(triple, generator(4));
  std::mt19937_64 rng_one(6), rng_three(6);
  auto draw = [](std::mt19937_64&) { return torch::tensor({0.2f}); };
  for (int step = 0; step < 6; ++step) {
    auto state = torch::tensor({0.1f * step});
    one.remember(state, one.act(state, rng_one, draw), 0.5 * step, state);
    three.remember(state, three.act(state, rng_three, draw), 0.5 * step, state);
    bool updated = false;
    for (int k = 0; k < 3; ++k) updated = one.update(rng_one) || updated;
    EXPECT_EQ(three.update(rng_three), updated) << step;
  }
  EXPECT_EQ(one.updates(), 12);  // 3 in each of the 4 rounds from the first policy act on
  EXPECT_EQ(three.updates(), one.updates());
  auto probe = torch::tensor({0.45f});
  EXPECT_TRUE(torch::equal(one.policy(probe), three.policy(probe)));
}

TEST(DdpgAgent, SaveThenRestoreContinuesIdentically) {
  DdpgOptions options;
  options.state_dim = 2;
  options.action_dim = 2;
  options.warmup = 3;
  options.replay_capacity = 50;
  options.batch_size = 4;
  auto random = [](std::mt19937_64& r) {
    std::uniform_real_distribution<float> u(-1, 1);
    return torch::tensor({u(r), u(r)});
  };
  auto step = [&](DdpgAgent& agent, int t, std::mt19937_64& rng) {
    auto state = torch::tensor({0.1f * t, 1.0f - 0.05f * t});
    auto action = agent.act(state, rng, random);
    agent.remember(state, action.clamp(-1, 1), 0.3 * t, state * 0.5);
    agent.update(rng);
    return action;
  };
  DdpgAgent original(options, generator(1));
  std::mt19937_64 rng(9);
  for (int t = 0; t < 12; ++t) step(original, t, rng);
  std::stringstream saved;
  original.save(saved);

  DdpgAgent restored(options, generator(2));  // different weights until restored
  restored.load(saved);
  EXPECT_EQ(restored.acts(), original.acts());
  EXPECT_EQ(restored.replay().size(), original.replay().size());
  std::mt19937_64 rng_a = rng, rng_b = rng;
  for (int t = 12; t < 20; ++t) EXPECT_TRUE(torch::equal(step(original, t, rng_a), step(restored, t, rng_b))) << t;
  EXPECT_DOUBLE_EQ(original.epsilon(), restored.epsilon());
  auto probe = torch::tensor({0.3f, 0.7f});
  EXPECT_TRUE(torch::equal(original.policy(probe), restored.policy(probe)));

  options.state_dim = 3;
  DdpgAgent other(options, generator(1));
  std::stringstream again;
  original.save(again);
  EXPECT_THROW(other.load(again), Error);
}

}  // namespace
}  // namespace pagefl::rl
