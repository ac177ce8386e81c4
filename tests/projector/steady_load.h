// A steady load of agent events (heartbeats and metrics samples of a few agents, published
// asynchronously as the services user), optionally with control events among them, and the
// check that the read models applied each event exactly once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <pqxx/connection>
#include <random>
#include <thread>
#include <vector>

#include "common/ids.h"
#include "tests/fixtures/nats_server.h"
#include "tests/projector/e2e_helpers.h"

namespace rmm::test {

// Per agent: heartbeats (presence lane) and metrics samples (ordered lane), each exactly once.
struct Tally {
  AgentId id;
  std::uint64_t ordered_seq = 0;
  std::uint64_t presence_seq = 0;
};

class SteadyLoad {
 public:
  // `control_every` > 0: a ClientCreated control event after every that many rounds of 4 agent
  // events, so control events interleave with the agents' in the stream.
  // `pause`: between two rounds.
  SteadyLoad(const NatsServerFixture& nats, int agents, int control_every = 0,
             std::chrono::milliseconds pause = std::chrono::milliseconds(2));
  ~SteadyLoad();
  void start();
  void stop();
  const std::vector<Tally>& agents() const { return agents_; }
  Publisher& publisher() { return pub_; }
  int failures() const { return failures_.load(); }
  int control_events() const { return control_events_.load(); }

 private:
  void one_event();
  void one_control_event();

  Publisher pub_;
  const int control_every_;
  const std::chrono::milliseconds pause_;
  std::mt19937 rng_;
  std::vector<Tally> agents_;
  std::atomic<int> failures_{0};
  std::atomic<int> control_events_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Checks every agent's rows against its tally (last sequences, events applied, metrics rows, no
// gaps); returns the number of agent events the tallies hold.
std::int64_t check_applied_once(pqxx::connection& conn, const SteadyLoad& load);

}  // namespace rmm::test
