// One simulated agent: its own identity (user key + JWT tagged agent:<id>), its own TCP
// connection speaking the NATS protocol (tools/sim/nats_wire.h) on the fleet's io_context, and
// the events a real agent sends: AgentStarted and Inventory at start, heartbeats in the presence
// lane, metrics in the ordered lane, with jitter; commands on rmm.cmd.<id> answered with
// CommandReceived + CommandCompleted; now and then offline for a while, then back.
//
// Concurrency: every member runs on the io_context's thread (single-threaded context).
// Limitations: events due while offline are not generated (a real agent would queue them);
// publishes are acknowledged by JetStream on the agent's inbox and counted, never re-sent.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>

#include "admin/nkeys.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/msg_ids.h"
#include "events_generated.h"
#include "tools/sim/nats_wire.h"

namespace rmm::sim {

struct FleetConfig {
  // The cluster's client endpoints: an agent starts on one and moves to the next after a failed
  // connect or a lost connection, as a real agent given every node's URL does.
  std::vector<boost::asio::ip::tcp::endpoint> servers;
  std::chrono::milliseconds heartbeat_interval{30'000};
  std::chrono::milliseconds metrics_interval{60'000};
  std::chrono::milliseconds offline_for{30'000};
  std::chrono::milliseconds reconnect_wait{2'000};
  double jitter = 0.2;          // intervals vary by ± this fraction
  double offline_chance = 0.0;  // chance, at each metrics tick, of going offline
  bool inventory = true;
};

// Counters of the whole fleet (single-threaded: plain integers).
struct FleetStats {
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t disconnects = 0;
  std::uint64_t offline_periods = 0;
  std::uint64_t published = 0;
  std::uint64_t acked = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t ack_errors = 0;
  std::uint64_t server_errors = 0;  // -ERR lines
  std::uint64_t commands = 0;
  std::string last_error;
  std::uint64_t connected_now = 0;
};

struct SimIdentity {
  AgentId id;
  broker::KeyPair key;
  std::string jwt;
};

class SimAgent {
 public:
  SimAgent(boost::asio::io_context& io, const FleetConfig& config, FleetStats& stats,
           SimIdentity identity, boost::asio::ip::address local_address, std::size_t first_server,
           std::uint64_t seed);
  SimAgent(const SimAgent&) = delete;
  SimAgent& operator=(const SimAgent&) = delete;

  void start();
  void stop();
  const AgentId& id() const { return identity_.id; }
  bool ready() const { return state_ == State::kReady; }

 private:
  enum class State { kIdle, kConnecting, kHandshake, kReady, kOffline, kStopped };

  void connect();
  void read();
  void handle(const ServerOp& op);
  void on_ready();
  void on_command(const ServerOp& op);
  void drop(const std::string& why, bool count_failure);
  void schedule();
  void on_timer();
  void publish(schema::Payload type, const std::vector<std::uint8_t>& bytes, bool presence);
  void flush();
  std::chrono::milliseconds jittered(std::chrono::milliseconds base);
  std::vector<std::uint8_t> make_metrics();

  boost::asio::io_context& io_;
  const FleetConfig& config_;
  FleetStats& stats_;
  SimIdentity identity_;
  std::string id_text_;
  // Msg ids as the real agent makes them, with a key of this simulated agent's own (in memory:
  // a simulated agent starts from sequence 1 every run anyway).
  AgentMsgIds msg_ids_;
  boost::asio::ip::address local_address_;
  std::size_t server_;  // index into config_.servers
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  std::mt19937_64 rng_;
  RealClock clock_;
  State state_ = State::kIdle;
  WireParser parser_;
  char read_buf_[8192];
  std::string out_;      // waiting to be written
  std::string writing_;  // being written
  bool write_busy_ = false;
  std::uint64_t generation_ = 0;  // bumped on each (re)connect: stale callbacks see a mismatch
  std::uint64_t seq_ = 0;         // ordered lane
  std::uint64_t hb_seq_ = 0;      // presence lane
  std::uint64_t in_flight_ = 0;   // publishes without an ack yet
  bool started_sent_ = false;
  std::chrono::steady_clock::time_point next_heartbeat_, next_metrics_;
};

}  // namespace rmm::sim
