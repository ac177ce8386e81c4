// RMM_CONTROL, the control-event archive (broker-config/streams/rmm_events_control.json), on the
// real nats-server: it sources every rmm.ctl.> message of RMM_EVENTS in order with its origin
// sequence, including what an existing RMM_EVENTS held before the archive was added (the
// migration is `rmm-admin apply-streams`), and keeps it after RMM_EVENTS aged it out.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <thread>

#include "admin/streams.h"
#include "common/files.h"
#include "common/nats_jetstream.h"
#include "tests/broker/test_client.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/stream_reader.h"

using namespace rmm;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::string_view kArchiveFile = "rmm_events_control.json";

struct Services {
  std::unique_ptr<nats::Connection> conn;
  std::unique_ptr<nats::JetStream> js;
  std::uint64_t control = 0, telemetry = 0;  // published by this helper

  explicit Services(const test::NatsServerFixture& server) {
    auto c = nats::Connection::connect({.url = server.url(),
                                        .creds_file = server.services_creds().string(),
                                        .name = "archive-test"});
    REQUIRE_MESSAGE(c.has_value(), c.error().message);
    conn = std::move(*c);
    auto j = nats::JetStream::create(*conn, {});
    REQUIRE(j.has_value());
    js = std::move(*j);
  }

  // Retried with the same message id (deduplicated) while JetStream is not ready, e.g. right
  // after a restart of the server.
  nats::PubAck publish(const std::string& subject, const std::string& payload,
                       const std::string& msg_id) {
    const std::span<const std::uint8_t> data{reinterpret_cast<const std::uint8_t*>(payload.data()),
                                             payload.size()};
    auto ack = js->publish(subject, data, msg_id, 5s);
    for (int attempt = 0; attempt < 50 && !ack; ++attempt) {
      std::this_thread::sleep_for(100ms);
      ack = js->publish(subject, data, msg_id, 5s);
    }
    REQUIRE_MESSAGE(ack.has_value(), ack.error().message);
    return *ack;
  }
  // Control and telemetry interleaved: three agent events, then one control event, `n` times.
  void interleaved(int n, std::string_view tag) {
    for (int i = 0; i < n; ++i) {
      for (int k = 0; k < 3; ++k) {
        ++telemetry;
        publish(fmt::format("rmm.p.{}.evt.0190a5c2-0000-7000-8000-00000000000{}.metrics", k, k),
                fmt::format("metrics {} {} {}", tag, i, k), fmt::format("{}-t-{}-{}", tag, i, k));
      }
      ++control;
      publish(i % 2 == 0 ? "rmm.ctl.client.client_created" : "rmm.ctl.clock.tick",
              fmt::format("control {} {}", tag, i), fmt::format("{}-c-{}", tag, i));
    }
  }
};

int run_apply(const test::NatsServerFixture& server, const fs::path& dir, std::string* out) {
  const fs::path log = server.home() / "apply.log";
  fs::remove(log);
  auto p =
      test::Process::start({.program = std::string(RMM_BIN_DIR) + "/rmm-admin",
                            .args = {"apply-streams", "--nats-url", server.url(), "--nats-creds",
                                     server.services_creds().string(), "--streams-dir",
                                     dir.string(), "--storage-budget", "1GiB"},
                            .log_file = log});
  auto status = p.wait(30s);
  REQUIRE(status.has_value());
  *out = files::read_all(log).value_or("");
  return *status;
}

// A copy of the repo's definitions: without the archive (the definitions before it existed)
// and with `edit` applied to each parsed definition.
template <class Edit>
fs::path copy_definitions(const test::NatsServerFixture& server, const std::string& name,
                          bool with_archive, Edit edit) {
  const fs::path dir = server.home() / name;
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(server.streams_dir())) {
    if (!with_archive && e.path().filename() == kArchiveFile) continue;
    auto text = files::read_all(e.path());
    REQUIRE(text.has_value());
    auto def = json::parse(*text).as_object();
    edit(def);
    REQUIRE(files::write_atomic(dir / e.path().filename(), json::serialize(def), 0644).has_value());
  }
  return dir;
}

// The control events of `events` as the archive must hold them: same subject, payload and
// message id, in order, each naming its origin sequence.
void check_archive(const std::vector<test::StoredMessage>& events,
                   const std::vector<test::StoredMessage>& archive) {
  std::vector<test::StoredMessage> expected;
  for (const auto& m : events) {
    if (!m.subject.starts_with("rmm.ctl.")) continue;
    auto copy = m;
    copy.seq = 0;
    copy.source = fmt::format("RMM_EVENTS {}", m.seq);
    expected.push_back(copy);
  }
  std::vector<test::StoredMessage> got = archive;
  for (auto& m : got) m.seq = 0;
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("archive message " << i);
    CHECK(got[i] == expected[i]);
  }
}

bool wait_for_messages(test::StreamReader& reader, const std::string& stream, std::uint64_t n,
                       std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (reader.state(stream).messages >= n) return true;
    std::this_thread::sleep_for(20ms);
  }
  return reader.state(stream).messages >= n;
}

}  // namespace

TEST_CASE("apply-streams adds the archive to an existing RMM_EVENTS without losing or reordering") {
  test::NatsServerFixture server({.apply_streams = false});
  // RMM_EVENTS' dedupe window is 300 ms here, so a re-send after it is stored a second time: the
  // archive must keep both although it copies them within microseconds of each other.
  auto short_window = [](json::object& def) {
    if (def.at("name") == "RMM_EVENTS") def["duplicate_window"] = 300'000'000;
  };
  const fs::path old_defs = copy_definitions(server, "old", false, short_window);
  const fs::path new_defs = copy_definitions(server, "new", true, short_window);
  std::string out;
  REQUIRE(run_apply(server, old_defs, &out) == 0);
  CHECK(out.find("RMM_CONTROL") == std::string::npos);

  Services pub(server);
  test::StreamReader reader(server);
  pub.interleaved(40, "before");
  pub.publish("rmm.ctl.user.user_created", "first", "same-id");
  std::this_thread::sleep_for(400ms);
  CHECK_FALSE(pub.publish("rmm.ctl.user.user_created", "re-sent", "same-id").duplicate);
  pub.control += 2;
  pub.interleaved(5, "before2");
  const auto events_before = reader.read("RMM_EVENTS");
  REQUIRE(events_before.size() == pub.control + pub.telemetry);

  // The migration of a deployed system: the new definitions, applied as every upgrade does.
  REQUIRE(run_apply(server, new_defs, &out) == 0);
  CHECK(out.find("RMM_CONTROL created") != std::string::npos);
  CHECK(out.find("RMM_EVENTS unchanged") != std::string::npos);
  REQUIRE_MESSAGE(wait_for_messages(reader, "RMM_CONTROL", pub.control, 10s),
                  "archive has " << reader.state("RMM_CONTROL").messages << " of " << pub.control);
  CHECK(reader.read("RMM_EVENTS") == events_before);
  check_archive(events_before, reader.read("RMM_CONTROL"));

  // Applying again changes nothing (the sources compare equal to the server's).
  REQUIRE(run_apply(server, new_defs, &out) == 0);
  CHECK(out.find("RMM_CONTROL unchanged") != std::string::npos);

  // New control events follow in order, also across a restart of the server (no duplicates).
  pub.interleaved(10, "after");
  REQUIRE(wait_for_messages(reader, "RMM_CONTROL", pub.control, 10s));
  server.restart();
  Services again(server);
  test::StreamReader reader_after(server);
  again.control = pub.control;
  again.interleaved(6, "restarted");
  REQUIRE(wait_for_messages(reader_after, "RMM_CONTROL", again.control, 10s));
  std::this_thread::sleep_for(500ms);  // a duplicate would arrive now
  const auto events = reader_after.read("RMM_EVENTS");
  REQUIRE(events.size() > events_before.size());
  CHECK(std::equal(events_before.begin(), events_before.end(), events.begin()));
  check_archive(events, reader_after.read("RMM_CONTROL"));
}

TEST_CASE("the archive keeps the control events RMM_EVENTS aged out, created before it or not") {
  test::NatsServerFixture server({.apply_streams = false});
  // RMM_EVENTS keeps 2 s.
  const fs::path defs = copy_definitions(server, "short", true, [](json::object& def) {
    if (def.at("name") != "RMM_EVENTS") return;
    def["max_age"] = 2'000'000'000;
    def["duplicate_window"] = 500'000'000;
  });
  // The archive first, while its source does not exist yet (apply-streams orders the files so
  // that this does not happen; a hand-made setup might).
  {
    natsStatus status = NATS_OK;
    auto services = test::TestClient::connect(server.url(), server.services_creds(), {}, &status);
    REQUIRE(services != nullptr);
    auto text = files::read_all(defs / kArchiveFile);
    REQUIRE(text.has_value());
    // The account requires a byte limit on every stream (apply-streams sets one).
    auto def = json::parse(*text).as_object();
    def["max_bytes"] = 64 << 20;
    auto created = broker::js_api_request(services->nc(), "$JS.API.STREAM.CREATE.RMM_CONTROL",
                                          json::serialize(def), 5s);
    REQUIRE_MESSAGE(created.has_value(), created.error().message);
  }
  std::string out;
  REQUIRE(run_apply(server, defs, &out) == 0);
  CHECK(out.find("RMM_EVENTS created") != std::string::npos);

  Services pub(server);
  test::StreamReader reader(server);
  pub.interleaved(8, "x");
  const auto events = reader.read("RMM_EVENTS");
  REQUIRE(events.size() == pub.control + pub.telemetry);
  // A source that did not exist when the archive was created is picked up once it does
  // (nats-server retries the source consumer).
  REQUIRE_MESSAGE(wait_for_messages(reader, "RMM_CONTROL", pub.control, 15s),
                  "archive has " << reader.state("RMM_CONTROL").messages);

  const bool aged = [&] {
    for (int i = 0; i < 100; ++i) {
      if (reader.state("RMM_EVENTS").messages == 0) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }();
  REQUIRE(aged);
  const auto state = reader.state("RMM_EVENTS");
  CHECK(state.first_seq == events.back().seq + 1);
  check_archive(events, reader.read("RMM_CONTROL"));
}
