// rmm-projector's ops endpoint on a real running projector: /metrics moves as events are folded
// and dead-lettered, /healthz and /readyz tell an owner from a standby.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <sstream>

#include "common/event_codec.h"
#include "common/pg.h"
#include "tests/fixtures/http_client.h"
#include "tests/fixtures/ports.h"
#include "tests/fixtures/postgres.h"
#include "tests/projector/e2e_helpers.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

const AgentId kAgent = *AgentId::parse("0190a5c2-3333-7000-8000-000000000001");

int status_of(int port, const std::string& target) {
  try {
    return http_get(port, target).status;
  } catch (const std::exception&) {
    return 0;  // not listening yet
  }
}

std::string scrape(int port) {
  auto res = http_get(port, "/metrics");
  REQUIRE(res.status == 200);
  CHECK(res.headers["content-type"].starts_with("text/plain; version=0.0.4"));
  return res.body;
}

}  // namespace

TEST_CASE("projector /metrics counts folded events and dead letters; /readyz tells the owner") {
  NatsServerFixture nats;
  auto& pg = PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("ops_http"));
  TempDir dir("projector");
  auto conn = pg::connect(pg_url);
  REQUIRE(conn.has_value());

  const int port = free_tcp_port();
  auto owner = start_projector(
      nats, pg_url, dir, 1, {fmt::format("--http-port={}", port), "--stream-check-interval=100ms"});
  REQUIRE(
      wait_until([&] { return status_of(port, "/readyz") == 200 || !owner.running(); }, 30s, 20ms));
  CHECK(status_of(port, "/healthz") == 200);
  auto before = scrape(port);
  CHECK(metric_sample(before, "rmm_projector_events_folded_total") == 0);
  CHECK(metric_sample(before, "rmm_projector_owner") == 1);

  constexpr int kEvents = 100;
  Publisher pub(nats);
  for (int seq = 1; seq <= kEvents; ++seq) {
    pub.async(codec::agent_event_subject(kAgent, schema::Payload::Heartbeat),
              codec::build_heartbeat(e2e_header(kAgent, static_cast<std::uint64_t>(seq)), {}),
              codec::agent_msg_id(kAgent, AgentSeq{static_cast<std::uint64_t>(seq)}));
  }
  pub.complete();
  // Poison straight to a partition subject: dead-lettered, not folded.
  pub.sync(partition_subject(kAgent, "heartbeat"), std::vector<std::uint8_t>(64, 0xAB), "poison");
  const auto last = static_cast<std::int64_t>(pub.last_seq.load());
  REQUIRE(last == kEvents + 1);
  REQUIRE(wait_until([&] { return checkpoint(**conn) == last; }, 30s, 20ms));
  // The stream check (every 100 ms) has seen the stream's end too.
  const std::string lag = R"(rmm_projector_lag_messages{stream="RMM_EVENTS"})";
  std::string after;
  REQUIRE(wait_until(
      [&] {
        after = scrape(port);
        return metric_sample(after, R"(rmm_projector_stream_last_sequence{stream="RMM_EVENTS"})") ==
               static_cast<double>(last);
      },
      10s, 50ms));
  CHECK(metric_sample(after, "rmm_projector_events_folded_total") == kEvents);
  CHECK(metric_sample(after, "rmm_projector_dead_letters_total") == 1);
  CHECK(metric_sample(after, "rmm_projector_messages_committed_total") ==
        static_cast<double>(last));
  CHECK(metric_sample(after, R"(rmm_projector_checkpoint_sequence{stream="RMM_EVENTS"})") ==
        static_cast<double>(last));
  CHECK(metric_sample(after, lag) == 0);
  CHECK(metric_sample(after, R"(rmm_projector_checkpoint_age_seconds{stream="RMM_EVENTS"})") == 0);
  CHECK(metric_sample(after, "rmm_projector_batch_write_seconds_count") >= 1);
  CHECK(metric_sample(after, R"(rmm_projector_batch_write_seconds_bucket{le="+Inf"})") ==
        metric_sample(after, "rmm_projector_batch_write_seconds_count"));
  CHECK(metric_sample(after, "rmm_projector_stream_losses_total") == 0);
  CHECK(after.find(kAgent.str()) == std::string::npos);  // counts only

  // A second projector on the same projection waits as a standby: alive, not ready.
  const int standby_port = free_tcp_port();
  auto standby =
      start_projector(nats, pg_url, dir, 2, {fmt::format("--http-port={}", standby_port)});
  REQUIRE(wait_until([&] { return status_of(standby_port, "/healthz") == 200; }, 30s, 20ms));
  CHECK(status_of(standby_port, "/readyz") == 503);
  CHECK(metric_sample(scrape(standby_port), "rmm_projector_owner") == 0);
  CHECK(status_of(port, "/readyz") == 200);
  CHECK(owner.terminate(10s) == 0);
  CHECK(standby.terminate(10s) == 0);
}
