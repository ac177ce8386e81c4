// Helpers of the projector's end-to-end tests (real nats-server, PostgreSQL and the rmm-projector
// binary): a JetStream publisher that tracks the last stream sequence, starting the projector,
// polling PostgreSQL with a bound.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/control_events.h"
#include "common/event_codec.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/temp_dir.h"

namespace rmm::test {

// "rmm.p.<k>.evt.<agent>.<token>": straight to a partition subject (services user only).
std::string partition_subject(const AgentId& agent, std::string_view token);

// The start of the UTC day ten days before this process started: recent enough that an event
// time of e2e_base() plus a few days is inside the window the projector accepts around the
// stream's time (projector/folds/event_time.h), and the same for the whole test run.
UnixNanos e2e_base();
// Agent event header with occurred_at = e2e_base() + seq seconds.
codec::AgentEventHeader e2e_header(const AgentId& agent, std::uint64_t seq);

// The first column of the first row; nullopt for no row or NULL.
std::optional<std::int64_t> scalar(pqxx::connection& conn, const std::string& sql);
// The core projection's checkpoint (0 without one).
std::int64_t checkpoint(pqxx::connection& conn);

// Publishes as the services user; last_seq is the highest stream sequence acked (not duplicate).
struct Publisher {
  explicit Publisher(const NatsServerFixture& nats);
  void async(const std::string& subject, const std::vector<std::uint8_t>& bytes,
             const std::string& msg_id);
  // Synchronous, so the stream order around it is known.
  void sync(const std::string& subject, const std::vector<std::uint8_t>& bytes,
            const std::string& msg_id);
  // Waits for every async ack and checks none failed.
  void complete();

  std::unique_ptr<nats::Connection> conn_;
  std::unique_ptr<nats::JetStream> js_;
  std::atomic<int> errors{0};
  std::atomic<std::uint64_t> last_seq{0};
};

// Control events as one API instance publishes them: synchronously (so the stream order around
// them is known), numbered from 1, the n-th occurring at `at` + n * `step`.
struct ControlSource {
  Publisher& pub;
  ControlSourceId source;
  UnixNanos at = 1'700'000'000'000'000'000;
  UnixNanos step = 1'000'000'000;
  std::uint64_t seq = 0;

  // Publishes what `build` makes of the next header; returns its stream sequence.
  template <class Build>
  std::uint64_t publish(schema::Payload type, Build build) {
    FakeClock clock;
    codec::ControlEventHeader h{.event_id = EventId::generate(clock),
                                .source = source,
                                .source_name = "api",
                                .seq = ++seq,
                                .occurred_at = at + static_cast<UnixNanos>(seq) * step};
    pub.sync(codec::control_event_subject(type), build(h), codec::control_msg_id(source, seq));
    return pub.last_seq.load();
  }
};

// How far the read models have folded, single or partitioned (common/projection_position.h); 0
// before the projector migrated.
std::int64_t folded_through(pqxx::connection& conn);

// The whole text of a file ("" when it cannot be read): a process's log.
std::string read_file(const std::filesystem::path& path);

// Sets `stream`'s max_msgs and discard policy, keeping the rest of its configuration.
void set_stream_limit(jsCtx* js, const char* stream, std::int64_t max_msgs,
                      jsDiscardPolicy discard);

// A finished `rmm-projector <args>` (rebuild, verify, losses...): its exit status (nullopt when
// it did not end within the timeout and was killed) and its log.
struct ProjectorCommand {
  std::optional<int> status;
  std::string out;
};
ProjectorCommand projector_command(const NatsServerFixture& nats, const std::string& pg_url,
                                   const TempDir& dir, const std::string& name,
                                   std::vector<std::string> args,
                                   std::chrono::seconds timeout = std::chrono::seconds(120));

// rmm-projector on `nats` and `pg_url` (ticker off), logging to <dir>/projector-<run>.log.
Process start_projector(const NatsServerFixture& nats, const std::string& pg_url,
                        const TempDir& dir, int run, std::vector<std::string> extra_args = {},
                        std::vector<std::pair<std::string, std::string>> env = {});

// Polls until `done` or `timeout`; returns whether `done` held.
template <class F>
bool wait_until(F done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = std::chrono::milliseconds(2)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(step);
  }
  return done();
}

}  // namespace rmm::test
