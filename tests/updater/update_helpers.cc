#include "tests/updater/update_helpers.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <thread>

#include "common/command_codec.h"
#include "common/command_signing.h"
#include "common/event_codec.h"
#include "common/files.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"

namespace rmm::test {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<nats::Connection> services(const NatsServerFixture& nats) {
  nats::ConnectOptions o;
  o.url = nats.url();
  o.creds_file = nats.services_creds().string();
  auto c = nats::Connection::connect(o);
  REQUIRE_MESSAGE(c.has_value(), (c ? std::string() : c.error().message));
  return std::move(*c);
}

}  // namespace

release::SigningKey test_key(int n) {
  auto key = release::load_private_key(kKeysDir / ("test_release_" + std::to_string(n) + ".key"));
  REQUIRE(key.has_value());
  return *key;
}

fs::path make_agent_state(const fs::path& dir, const NatsServerFixture& nats, const AgentId& id) {
  fs::path state = dir / "agent";
  fs::create_directories(state);
  fs::copy_file(nats.mint_agent(id), state / "agent.creds", fs::copy_options::overwrite_existing);
  REQUIRE(files::write_atomic(state / "agent_id", id.str() + "\n").has_value());
  nats.write_agent_command_keys(state);
  return state;
}

TestRelease make_release(std::vector<std::uint8_t> artifact, const std::string& version,
                         const release::SigningKey& key, std::uint64_t chunk_size) {
  TestRelease r;
  r.manifest = release::describe(artifact, chunk_size);
  r.manifest.version = version;
  r.manifest.platform = release::host_platform();
  r.manifest.arch = release::host_arch();
  r.artifact = std::move(artifact);
  resign(r, key);
  return r;
}

void resign(TestRelease& r, const release::SigningKey& key) {
  r.json = release::to_json(r.manifest);
  r.signature = release::format_signature(release::sign(key, r.json));
}

void publish(const NatsServerFixture& nats, const TestRelease& r,
             const release_tool::PublishOptions& options) {
  auto conn = services(nats);
  auto js = nats::JetStream::create(*conn, {});
  REQUIRE(js.has_value());
  auto out =
      release_tool::publish_release(**js, r.manifest, r.json, r.signature, r.artifact, options);
  REQUIRE_MESSAGE(out.has_value(), (out ? std::string() : out.error().message));
}

std::vector<std::uint8_t> read_binary(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<codec::UpdateProgressInfo> spooled_progress(const fs::path& state) {
  std::vector<codec::UpdateProgressInfo> out;
  auto entries = spool::list(state);
  REQUIRE(entries.has_value());
  for (auto& e : *entries) {
    if (auto* u = std::get_if<codec::UpdateProgressInfo>(&e.event)) out.push_back(*u);
  }
  return out;
}

std::vector<codec::WatchdogAlertInfo> spooled_alerts(const fs::path& state) {
  std::vector<codec::WatchdogAlertInfo> out;
  auto entries = spool::list(state);
  REQUIRE(entries.has_value());
  for (auto& e : *entries) {
    if (auto* w = std::get_if<codec::WatchdogAlertInfo>(&e.event)) out.push_back(*w);
  }
  return out;
}

std::vector<std::vector<std::uint8_t>> stored_events(
    const NatsServerFixture& nats, const AgentId& agent, schema::Payload type,
    std::chrono::seconds limit,
    const std::function<bool(const std::vector<std::vector<std::uint8_t>>&)>& done) {
  static std::atomic<int> readers{0};
  auto conn = services(nats);
  auto js = nats::JetStream::create(*conn, {});
  REQUIRE(js.has_value());
  nats::PullConsumerSettings cs;
  cs.stream = "RMM_EVENTS";
  cs.durable = "upd_reader_" + std::to_string(::getpid()) + "_" + std::to_string(readers++);
  cs.filter_subject =
      "rmm.p.*.evt." + agent.str() + "." + std::string(codec::event_type_token(type));
  auto sub = (*js)->pull_subscribe(cs);
  REQUIRE_MESSAGE(sub.has_value(), (sub ? std::string() : sub.error().message));
  std::vector<std::vector<std::uint8_t>> out;
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done(out) && std::chrono::steady_clock::now() < deadline) {
    auto batch = (*sub)->fetch(64, 500ms);
    if (!batch) continue;
    for (auto& m : *batch) {
      auto data = m.data();
      out.emplace_back(data.begin(), data.end());
      (void)m.ack();
    }
  }
  return out;
}

CommandId send_update(const NatsServerFixture& nats, const AgentId& agent,
                      const std::string& version, bool allow_downgrade) {
  codec::CommandInfo info;
  info.id = CommandId::generate(real_clock());
  info.agent = agent;
  info.issued_at = real_clock().now();
  info.expires_at = info.issued_at + std::chrono::nanoseconds(std::chrono::hours(1)).count();
  info.issuer = "test";
  info.action = codec::UpdateAgentSpec{version, "", "", allow_downgrade};
  auto bytes = codec::build_signed_command(info, nats.command_signer().key);
  auto conn = services(nats);
  auto js = nats::JetStream::create(*conn, {});
  REQUIRE(js.has_value());
  auto ack = (*js)->publish(codec::agent_command_subject(agent), bytes, "cmd:" + info.id.str(), 5s);
  REQUIRE_MESSAGE(ack.has_value(), (ack ? std::string() : ack.error().message));
  return info.id;
}

}  // namespace rmm::test
