#include "tests/projector/e2e_helpers.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <pqxx/nontransaction>
#include <pqxx/result>

#include "admin/partition.h"
#include "common/files.h"
#include "common/projection_position.h"

namespace rmm::test {

using namespace std::chrono_literals;

std::string partition_subject(const AgentId& agent, std::string_view token) {
  return fmt::format("rmm.p.{}.evt.{}.{}",
                     broker::partition_of(agent.str(), broker::kEventPartitions), agent.str(),
                     token);
}

UnixNanos e2e_base() {
  static const UnixNanos base = [] {
    constexpr UnixNanos kDay = 86'400'000'000'000;
    return (real_clock().now() / kDay - 10) * kDay;
  }();
  return base;
}

codec::AgentEventHeader e2e_header(const AgentId& agent, std::uint64_t seq) {
  return {.event_id = EventId::generate(real_clock()),
          .agent = agent,
          .seq = AgentSeq{seq},
          .occurred_at = e2e_base() + static_cast<UnixNanos>(seq) * 1'000'000'000};
}

std::optional<std::int64_t> scalar(pqxx::connection& conn, const std::string& sql) {
  pqxx::nontransaction tx(conn);
  auto r = tx.exec(sql);
  if (r.empty() || r[0][0].is_null()) return std::nullopt;
  return r[0][0].as<std::int64_t>();
}

std::string read_file(const std::filesystem::path& path) {
  return files::read_all(path).value_or("");
}

void set_stream_limit(jsCtx* js, const char* stream, std::int64_t max_msgs,
                      jsDiscardPolicy discard) {
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  REQUIRE(js_GetStreamInfo(&si, js, stream, nullptr, &code) == NATS_OK);
  si->Config->MaxMsgs = max_msgs;
  si->Config->Discard = discard;
  jsStreamInfo* updated = nullptr;
  natsStatus s = js_UpdateStream(&updated, js, si->Config, nullptr, &code);
  jsStreamInfo_Destroy(si);
  REQUIRE_MESSAGE(s == NATS_OK, "js_UpdateStream: " << natsStatus_GetText(s) << " " << code);
  CHECK(updated->Config->MaxMsgs == max_msgs);
  jsStreamInfo_Destroy(updated);
}

ProjectorCommand projector_command(const NatsServerFixture& nats, const std::string& pg_url,
                                   const TempDir& dir, const std::string& name,
                                   std::vector<std::string> args, std::chrono::seconds timeout) {
  const auto log_file = dir / (name + ".log");
  args.insert(args.end(), {"--nats-url=" + nats.url(),
                           "--nats-creds=" + nats.services_creds().string(), "--pg-url=" + pg_url});
  auto p = Process::start({.program = std::string(RMM_BIN_DIR) + "/rmm-projector",
                           .args = std::move(args),
                           .env = {},
                           .log_file = log_file});
  auto status = p.wait(timeout);
  if (!status) p.kill9();
  return {status, read_file(log_file)};
}

std::int64_t checkpoint(pqxx::connection& conn) {
  return scalar(conn, "SELECT stream_seq FROM projection_checkpoints WHERE projection = 'core'")
      .value_or(0);
}

Publisher::Publisher(const NatsServerFixture& nats) {
  auto conn = nats::Connection::connect(
      {.url = nats.url(), .creds_file = nats.services_creds().string(), .name = "test-publisher"});
  REQUIRE_MESSAGE(conn.has_value(), conn.error().message);
  conn_ = std::move(*conn);
  auto js = nats::JetStream::create(
      *conn_, {.max_pending = 8192, .on_ack = [this](const std::string&, Result<nats::PubAck> ack) {
                 if (!ack) {
                   ++errors;
                 } else if (!ack->duplicate) {
                   std::uint64_t seq = ack->seq.value;
                   std::uint64_t cur = last_seq.load();
                   while (seq > cur && !last_seq.compare_exchange_weak(cur, seq)) {
                   }
                 }
               }});
  REQUIRE_MESSAGE(js.has_value(), js.error().message);
  js_ = std::move(*js);
}

void Publisher::async(const std::string& subject, const std::vector<std::uint8_t>& bytes,
                      const std::string& msg_id) {
  auto st = js_->publish_async(subject, bytes, msg_id);
  REQUIRE_MESSAGE(st.has_value(), st.error().message);
}

void Publisher::sync(const std::string& subject, const std::vector<std::uint8_t>& bytes,
                     const std::string& msg_id) {
  auto ack = js_->publish(subject, bytes, msg_id, 5s);
  REQUIRE_MESSAGE(ack.has_value(), ack.error().message);
  std::uint64_t cur = last_seq.load();
  if (ack->seq.value > cur) last_seq = ack->seq.value;
}

void Publisher::complete() {
  auto st = js_->publish_async_complete(60s);
  REQUIRE_MESSAGE(st.has_value(), st.error().message);
  CHECK(errors.load() == 0);
}

Process start_projector(const NatsServerFixture& nats, const std::string& pg_url,
                        const TempDir& dir, int run, std::vector<std::string> extra_args,
                        std::vector<std::pair<std::string, std::string>> env) {
  std::vector<std::string> args{"--nats-url=" + nats.url(),
                                "--nats-creds=" + nats.services_creds().string(),
                                "--pg-url=" + pg_url, "--batch-size=40", "--fetch-timeout=200ms",
                                // Ticks would move the stream under tests that count it; a
                                // later --ticker=true in extra_args turns it back on.
                                "--ticker=false",
                                // Several run at once: no ops endpoint unless a test asks
                                // for one (a later --http-port).
                                "--http-port=0"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return Process::start({.program = std::string(RMM_BIN_DIR) + "/rmm-projector",
                         .args = std::move(args),
                         .env = std::move(env),
                         .log_file = dir / fmt::format("projector-{}.log", run)});
}

std::int64_t folded_through(pqxx::connection& conn) {
  try {
    return scalar(conn, std::string(kFoldedThroughSql)).value_or(0);
  } catch (const std::exception&) {
    return 0;  // not migrated yet
  }
}

}  // namespace rmm::test
