// rmm-projector's ops endpoint on a real running projector: /metrics moves as events are folded
// and dead-lettered, /healthz and /readyz tell an owner from a standby; with --partitions, /units
// lists every unit with its owner, checkpoint, watermark and lag (a unit another session holds
// shows that session and lags until it is free).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <boost/json.hpp>
#include <chrono>
#include <pqxx/nontransaction>
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
  // The single projection has no units.
  CHECK(after.find("rmm_projector_unit_") == std::string::npos);
  CHECK(status_of(port, "/units") == 404);

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

TEST_CASE("partitioned projector /units: each unit's owner, checkpoint, watermark and lag") {
  NatsServerFixture nats;
  auto& pg = PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("ops_http_units"));
  TempDir dir("projector-units");
  auto conn = pg::connect(pg_url);
  REQUIRE(conn.has_value());
  // Another session holds unit core/p3 (the owner lock's keys, db/projection_lock.cc).
  auto holder = pg::connect(pg_url);
  REQUIRE(holder.has_value());
  {
    pqxx::nontransaction tx(**holder);
    tx.exec0("SET application_name = 'ops test holder'");
    tx.exec1("SELECT pg_advisory_lock(x'524d4d50'::int, hashtext('core/p3') & 2147483647)");
  }

  Publisher pub(nats);
  constexpr int kEvents = 64;
  for (int i = 0; i < kEvents; ++i) {
    const auto agent = *AgentId::parse(fmt::format("0190a5c2-3333-7000-8000-0000000002{:02x}", i));
    pub.async(codec::agent_event_subject(agent, schema::Payload::Heartbeat),
              codec::build_heartbeat(e2e_header(agent, 1), {}),
              codec::agent_msg_id(agent, AgentSeq{1}));
  }
  pub.complete();
  const auto last = static_cast<std::int64_t>(pub.last_seq.load());

  const int port = free_tcp_port();
  auto p = start_projector(nats, pg_url, dir, 1,
                           {fmt::format("--http-port={}", port), "--partitions=16",
                            "--lock-poll-interval=200ms", "--stream-check-interval=100ms"});
  auto units = [&] {
    boost::json::object out;
    try {
      auto res = http_get(port, "/units");
      if (res.status != 200) return out;
      CHECK(res.headers["content-type"] == "application/json");
      out = boost::json::parse(res.body).as_object();
    } catch (const std::exception&) {
    }
    return out;
  };
  auto unit = [](const boost::json::object& body, const std::string& name) {
    for (const auto& u : body.at("units").as_array()) {
      if (u.at("unit").as_string() == name) return u.as_object();
    }
    return boost::json::object{};
  };
  // Every unit but core/p3 catches up; core/p3 stays at 0, held by the other session.
  boost::json::object body;
  const bool read = wait_until(
      [&] {
        body = units();
        if (!body.contains("units") || body.at("units").as_array().size() != 17) return false;
        for (const auto& u : body.at("units").as_array()) {
          const auto& o = u.as_object();
          if (o.at("unit").as_string() == "core/p3") continue;
          if (o.at("lag_messages").to_number<std::int64_t>() != 0) return false;
        }
        return body.at("stream_last_seq").to_number<std::int64_t>() == last;
      },
      30s, 50ms);
  REQUIRE_MESSAGE(read, boost::json::serialize(body) << read_file(dir / "projector-1.log"));
  CAPTURE(boost::json::serialize(body));
  CHECK(body.at("stream").as_string() == "RMM_EVENTS");
  const auto p0 = unit(body, "core/p0");
  REQUIRE(p0.contains("owner"));
  CHECK(std::string(p0.at("owner").at("application_name").as_string())
            .starts_with("rmm-projector pid "));
  CHECK(p0.at("owner").at("backend_pid").to_number<std::int64_t>() > 0);
  CHECK(p0.at("held_here").as_bool());
  CHECK(std::max(p0.at("checkpoint").to_number<std::int64_t>(),
                 p0.at("watermark").to_number<std::int64_t>()) == last);
  CHECK(p0.at("oldest_unfolded_age_seconds").is_null());
  const auto p3 = unit(body, "core/p3");
  CHECK(p3.at("owner").at("application_name").as_string() == "ops test holder");
  CHECK_FALSE(p3.at("held_here").as_bool());
  CHECK(p3.at("checkpoint").to_number<std::int64_t>() == 0);
  CHECK(p3.at("lag_messages").to_number<std::int64_t>() == last);
  CHECK(p3.at("oldest_unfolded_age_seconds").to_number<double>() >= 0);
  const auto metrics = http_get(port, "/metrics").body;
  CHECK(metric_sample(metrics, R"(rmm_projector_unit_lag_messages{unit="core/p3"})") == last);
  CHECK(metric_sample(metrics, R"(rmm_projector_unit_lag_messages{unit="core/ctl"})") == 0);
  CHECK(metric_sample(metrics, R"(rmm_projector_unit_held{unit="core/p0"})") == 1);
  CHECK(metric_sample(metrics, R"(rmm_projector_unit_held{unit="core/p3"})") == 0);

  // Free: the process takes core/p3 at its next poll, and it catches up.
  holder->reset();
  CHECK(wait_until(
      [&] {
        body = units();
        if (!body.contains("units")) return false;
        const auto u = unit(body, "core/p3");
        return !u.empty() && u.at("held_here").as_bool() &&
               u.at("lag_messages").to_number<std::int64_t>() == 0;
      },
      30s, 50ms));
  CHECK(p.terminate(10s) == 0);
}
