// Every stream gets a byte limit from settings, a limit never deletes stored messages unless
// forced, and each stream behaves at its limit as docs/operations.md says: telemetry drops its
// oldest, commands are refused (never dropped), and `rmm-admin stream-usage` warns first.
#include "admin/stream_limits.h"

#include <doctest/doctest.h>
#include <sys/statvfs.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <thread>
#include <vector>

#include "admin/streams.h"
#include "common/files.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "common/stream_usage.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/process.h"

using namespace rmm;
using namespace rmm::broker;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMiB = 1 << 20;

struct Run {
  int status = -1;
  std::string out;
};

Run admin(test::NatsServerFixture& server, std::vector<std::string> args) {
  static int n = 0;
  fs::path log = server.home() / ("admin-" + std::to_string(++n) + ".log");
  args.insert(args.begin() + 1,
              {"--nats-url", server.url(), "--nats-creds", server.services_creds().string()});
  auto p = test::Process::start(
      {.program = std::string(RMM_BIN_DIR) + "/rmm-admin", .args = args, .log_file = log});
  auto status = p.wait(60s);
  REQUIRE(status.has_value());
  return {*status, files::read_all(log).value_or("")};
}

boost::json::object config_of(natsConnection* nc, const std::string& stream) {
  auto info = js_api_request(nc, "$JS.API.STREAM.INFO." + stream, "", 5s);
  REQUIRE_MESSAGE(info.has_value(), stream);
  return info->at("config").as_object();
}

std::int64_t max_bytes(natsConnection* nc, const std::string& stream) {
  return config_of(nc, stream).at("max_bytes").to_number<std::int64_t>();
}

struct Services {
  std::unique_ptr<nats::Connection> conn;
  std::unique_ptr<nats::JetStream> js;
};

Services services(test::NatsServerFixture& server) {
  nats::ConnectOptions o{.url = server.url(), .creds_file = server.services_creds().string()};
  auto conn = nats::Connection::connect(o);
  REQUIRE(conn.has_value());
  auto js = nats::JetStream::create(**conn, {});
  REQUIRE(js.has_value());
  return {std::move(*conn), std::move(*js)};
}

nats::StreamUsage usage(Services& s, const std::string& stream) {
  auto u = nats::read_stream_usage(s.js->raw(), stream);
  REQUIRE(u.has_value());
  return *u;
}

const std::vector<std::uint8_t> kPayload(1000, 0x5a);

}  // namespace

TEST_CASE("every stream gets a byte limit: a setting, else the one it has, else its share") {
  test::NatsServerFixture server({.apply_streams = false});
  auto s = services(server);
  natsConnection* nc = s.conn->raw();

  // Neither a budget nor a store dir to size one from: refused, nothing created.
  Run r = admin(server, {"apply-streams"});
  CHECK(r.status != 0);
  CHECK(r.out.find("jetstream-dir") != std::string::npos);
  CHECK_FALSE(js_api_request(nc, "$JS.API.STREAM.INFO.RMM_EVENTS", "", 5s).has_value());

  r = admin(server, {"apply-streams", "--storage-budget", "1GiB", "--commands-max-bytes", "10MiB"});
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(max_bytes(nc, "RMM_EVENTS") == (1024 * kMiB) / 100 * 80);
  CHECK(max_bytes(nc, "RMM_COMMANDS") == 10 * kMiB);
  CHECK(max_bytes(nc, "RMM_RELEASES") == (1024 * kMiB) / 100 * 10);
  CHECK(config_of(nc, "RMM_EVENTS").at("discard") == "old");
  CHECK(config_of(nc, "RMM_COMMANDS").at("discard") == "new");
  CHECK(config_of(nc, "RMM_RELEASES").at("discard") == "new");

  // Another budget leaves existing limits alone; a setting that names one changes it.
  r = admin(server, {"apply-streams", "--storage-budget", "4GiB"});
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("RMM_EVENTS unchanged") != std::string::npos);
  CHECK(max_bytes(nc, "RMM_EVENTS") == (1024 * kMiB) / 100 * 80);
  r = admin(server, {"apply-streams", "--events-max-bytes", "512MiB", "--events-max-age", "90d"});
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("RMM_EVENTS updated") != std::string::npos);
  CHECK(max_bytes(nc, "RMM_EVENTS") == 512 * kMiB);
  CHECK(config_of(nc, "RMM_EVENTS").at("max_age").to_number<std::int64_t>() ==
        90LL * 86'400 * 1'000'000'000);

  // A command must never age out before it expires (7 days at most).
  r = admin(server, {"apply-streams", "--commands-max-age", "3d"});
  CHECK(r.status != 0);
  CHECK(r.out.find("commands-max-age") != std::string::npos);
}

TEST_CASE("the automatic budget is half of the store's free disk plus what the streams hold") {
  test::NatsServerFixture server({.apply_streams = false});
  auto s = services(server);
  struct statvfs fs {};
  REQUIRE(::statvfs((server.home() / "jetstream").c_str(), &fs) == 0);
  const double available = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
  Run r =
      admin(server, {"apply-streams", "--jetstream-dir", (server.home() / "jetstream").string()});
  REQUIRE_MESSAGE(r.status == 0, r.out);
  const double events = static_cast<double>(max_bytes(s.conn->raw(), "RMM_EVENTS"));
  // 80 % of half the free disk, give or take what other programs wrote meanwhile.
  CHECK(events == doctest::Approx(available / 2 * 0.8).epsilon(0.05));
}

TEST_CASE("streams with the automatic budget survive restarts of the server") {
  // nats-server 2.9.10 in operator mode sometimes refused to recover RMM_EVENTS after a restart
  // ("insufficient storage resources") while its store limit was its default, 75 % of the free
  // disk; render-config now sets it to the filesystem's size.
  test::NatsServerFixture server;
  auto s = services(server);
  const auto before = usage(s, "RMM_EVENTS");
  REQUIRE(before.max_bytes > 0);
  s.js.reset();
  s.conn.reset();
  for (int i = 0; i < 4; ++i) {
    server.restart();
    auto again = services(server);
    for (const char* name : {"RMM_EVENTS", "RMM_CONTROL", "RMM_COMMANDS", "RMM_RELEASES"}) {
      // A stream the server recovers is there within moments; a refused one never comes.
      auto u = nats::read_stream_usage(again.js->raw(), name);
      for (int tries = 0; !u && tries < 50; ++tries) {
        std::this_thread::sleep_for(100ms);
        u = nats::read_stream_usage(again.js->raw(), name);
      }
      REQUIRE_MESSAGE(u.has_value(), "restart ", i + 1, ": ", name, ": ", u.error().message);
      CHECK(u->max_bytes > 0);
    }
  }
}

TEST_CASE("a limit below what a stream holds is refused unless forced") {
  test::NatsServerFixture server({.limits = {.storage_budget = 1024 * kMiB}});
  auto s = services(server);
  for (int i = 0; i < 200; ++i) {
    REQUIRE(s.js->publish("rmm.cmd.limits-test", kPayload, "", 5s).has_value());
  }
  const auto before = usage(s, "RMM_COMMANDS");
  REQUIRE(before.messages == 200);

  Run r = admin(server, {"apply-streams", "--commands-max-bytes", "64KiB"});
  CHECK(r.status != 0);
  CHECK(r.out.find("--force") != std::string::npos);
  CHECK(r.out.find("RMM_COMMANDS") != std::string::npos);
  const auto after = usage(s, "RMM_COMMANDS");
  CHECK(after.messages == 200);
  CHECK(after.max_bytes == before.max_bytes);

  r = admin(server, {"apply-streams", "--commands-max-bytes", "64KiB", "--force"});
  REQUIRE_MESSAGE(r.status == 0, r.out);
  const auto forced = usage(s, "RMM_COMMANDS");
  CHECK(forced.max_bytes == 64 * 1024);
  CHECK(forced.messages < 200);  // forced: nats-server deleted the oldest
}

TEST_CASE("an age limit that would delete what a stream holds is refused unless forced") {
  const UnixNanos now = 1'800'000'000'000'000'000;
  const std::int64_t day = 86'400'000'000'000;
  StoredState held{.max_bytes = kMiB,
                   .max_msgs = -1,
                   .max_age_ns = 400 * day,
                   .bytes = 1000,
                   .messages = 10,
                   .first_time = now - 20 * day};
  boost::json::object desired{{"name", "RMM_EVENTS"}, {"max_bytes", kMiB}, {"max_age", 10 * day}};
  auto refused = check_no_loss(desired, held, now, false);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message.find("10d") != std::string::npos);
  CHECK(check_no_loss(desired, held, now, true).has_value());
  desired["max_age"] = 30 * day;  // still longer than what it holds
  CHECK(check_no_loss(desired, held, now, false).has_value());
  // An unchanged limit is never refused, even with messages just past it awaiting expiry.
  held.first_time = now - 401 * day;
  desired["max_age"] = 400 * day;
  CHECK(check_no_loss(desired, held, now, false).has_value());
}

TEST_CASE("at the limit: telemetry drops its oldest, commands are refused, and usage warns first") {
  test::NatsServerFixture server(
      {.limits = {.storage_budget = 1024 * kMiB,
                  .max_bytes = {{"RMM_EVENTS", 256 * 1024}, {"RMM_COMMANDS", 64 * 1024}}}});
  auto s = services(server);
  Run r = admin(server, {"stream-usage"});
  CHECK_MESSAGE(r.status == 0, r.out);
  for (const char* name : {"RMM_EVENTS", "RMM_COMMANDS", "RMM_RELEASES"}) {
    CHECK(r.out.find(name) != std::string::npos);
  }

  // An agent publishing past RMM_EVENTS' limit is always acknowledged (discard old).
  const AgentId agent = AgentId::generate(real_clock());
  auto creds = server.mint_agent(agent);
  nats::ConnectOptions ao{.url = server.url(), .creds_file = creds.string()};
  ao.inbox_prefix = "_INBOX." + agent.str();
  auto agent_conn = nats::Connection::connect(ao);
  REQUIRE(agent_conn.has_value());
  auto agent_js = nats::JetStream::create(**agent_conn, {});
  REQUIRE(agent_js.has_value());
  const std::string subject = "rmm.evt." + agent.str() + ".heartbeat";
  for (int i = 1; i <= 600; ++i) {
    auto ack = (*agent_js)->publish(subject, kPayload, agent.str() + ":" + std::to_string(i), 5s);
    REQUIRE_MESSAGE(ack.has_value(), "publish ", i, ": ", ack.error().message);
  }
  const auto events = usage(s, "RMM_EVENTS");
  CHECK(events.bytes <= 256u * 1024);
  CHECK(events.first_seq > 1);  // the oldest telemetry made room
  CHECK(events.last_seq == 600);

  // RMM_COMMANDS (discard new): a warning past 80 %, then a refusal, never a silent drop.
  int accepted = 0;
  for (; accepted < 1000; ++accepted) {
    if (usage(s, "RMM_COMMANDS").used_fraction() >= 0.85) break;
    REQUIRE(s.js->publish("rmm.cmd." + agent.str(), kPayload, "", 5s).has_value());
  }
  r = admin(server, {"stream-usage"});
  CHECK(r.status == 1);
  CHECK(r.out.find("warning: RMM_COMMANDS is") != std::string::npos);
  Error refusal{};
  bool refused = false;
  for (int i = 0; i < 100 && !refused; ++i) {
    auto ack = s.js->publish("rmm.cmd." + agent.str(), kPayload, "", 5s);
    if (!ack) {
      refused = true;
      refusal = ack.error();
    }
  }
  REQUIRE(refused);
  CHECK(refusal.code == Error::Code::kFull);
  const auto commands = usage(s, "RMM_COMMANDS");
  CHECK(commands.first_seq == 1);  // nothing stored was dropped to make room
  r = admin(server, {"stream-usage"});
  CHECK(r.status == 1);
  CHECK(r.out.find("error: RMM_COMMANDS is") != std::string::npos);
}
