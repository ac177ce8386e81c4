// Issue 16, item 5: the shared enrollment credential can neither make rmm-api write into the log
// (by naming a stream's subject as the reply subject) nor read another installer's reply (every
// holder may subscribe to every enrollment inbox). Real nats-server, the real enrollment
// credential, the responder as rmm-api runs it.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <map>
#include <thread>

#include "admin/enroll_crypto.h"
#include "admin/jwt.h"
#include "admin/nkeys.h"
#include "common/event_codec.h"
#include "common/files.h"
#include "tests/enroll/enroll_stack.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string text_of(const nats::Message& m) {
  auto d = m.data();
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

// "<stream> <subject>" -> messages, for every subject of every stream in the account, through the
// JetStream API (services user). Clock ticks are left out: the projector's ticker publishes them
// on its own schedule.
std::map<std::string, std::uint64_t> stored_subjects(nats::Connection& services) {
  std::map<std::string, std::uint64_t> out;
  auto names = services.request("$JS.API.STREAM.NAMES", bytes("{}"), 5s);
  REQUIRE(names.has_value());
  auto doc = json::parse(text_of(*names));
  const auto& streams = doc.as_object().at("streams").as_array();
  REQUIRE(streams.size() >= 2);
  for (const auto& n : streams) {
    std::string name(n.as_string());
    auto info =
        services.request("$JS.API.STREAM.INFO." + name, bytes(R"({"subjects_filter":">"})"), 5s);
    REQUIRE(info.has_value());
    auto reply = json::parse(text_of(*info));
    const auto& state = reply.as_object().at("state").as_object();
    const auto* subjects = state.if_contains("subjects");
    if (subjects == nullptr || !subjects->is_object()) continue;  // an empty stream
    for (const auto& [subject, n_msgs] : subjects->as_object()) {
      if (std::string_view(subject).starts_with("rmm.ctl.clock.")) continue;
      out[name + " " + std::string(subject)] =
          n_msgs.is_uint64() ? n_msgs.as_uint64() : static_cast<std::uint64_t>(n_msgs.as_int64());
    }
  }
  REQUIRE_FALSE(out.empty());
  return out;
}

std::unique_ptr<nats::Connection> enroll_connection(EnrollStack& stack) {
  nats::ConnectOptions opts{.url = stack.nats().url(),
                            .creds_file = stack.nats().identity().enroll_creds().string(),
                            .inbox_prefix = std::string(broker::kEnrollInboxPrefix),
                            .max_reconnect = 0};
  auto conn = nats::Connection::connect(opts);
  REQUIRE_MESSAGE(conn.has_value(), (conn ? "" : conn.error().message));
  return std::move(*conn);
}

std::string request_body(const std::string& code, int version) {
  auto key = broker::KeyPair::generate(broker::KeyRole::kUser).public_key();
  return fmt::format(R"({{"version":{},"code":"{}","public_key":"{}","hostname":"x",)"
                     R"("fingerprint":{{"machine_id":"{}"}}}})",
                     version, code, key, AgentId::generate(real_clock()).str());
}

}  // namespace

TEST_CASE("the enrollment responder answers only to enrollment inboxes") {
  EnrollStack stack;
  auto victim =
      agent::enroll::enroll(stack.options(stack.new_code(), stack.dir() / "victim"), machine(1));
  REQUIRE(victim.has_value());
  const std::string code = stack.new_code();
  auto conn = enroll_connection(stack);
  const auto before = stored_subjects(stack.services());

  const std::string v = victim->agent.str();
  const std::string reply_subjects[] = {
      "rmm.cmd." + v,
      "rmm.ctl.agent.agent_revoked",
      codec::agent_event_subject(victim->agent, schema::Payload::Heartbeat),
      "rmm.p.0.evt." + v + ".heartbeat",
      "_INBOX_ENROLL",        // not an inbox of the form
      "_INBOX_ENROLL.a.b.c",  // too deep
  };
  for (const auto& reply : reply_subjects) {
    CAPTURE(reply);
    // A valid request and a malformed one: neither may be answered there.
    for (const std::string& body : {request_body(code, 2), std::string("{}")}) {
      REQUIRE(natsConnection_PublishRequest(
                  conn->raw(), std::string(broker::kEnrollSubject).c_str(), reply.c_str(),
                  body.data(), static_cast<int>(body.size())) == NATS_OK);
    }
  }
  REQUIRE(conn->flush(2s).has_value());
  // The responder handles requests in order: once this one is answered, the above were handled.
  auto old = conn->request(std::string(broker::kEnrollSubject), bytes(request_body(code, 1)), 15s);
  REQUIRE_MESSAGE(old.has_value(), (old ? "" : old.error().message));
  // An agent of protocol 1 learns that it must be upgraded.
  auto refusal = json::parse(text_of(*old)).as_object();
  CHECK_FALSE(refusal.at("ok").as_bool());
  CHECK(refusal.at("error").as_string() == "unsupported_version");

  // The broker needs a moment to store anything published; the count must not move at all.
  std::this_thread::sleep_for(300ms);
  CHECK(stored_subjects(stack.services()) == before);
  CHECK(conn->async_error_count() == 0);
}

TEST_CASE("another holder of the enrollment credential cannot read an installer's reply") {
  EnrollStack stack;
  auto eavesdropper = enroll_connection(stack);
  natsSubscription* raw = nullptr;
  REQUIRE(natsConnection_SubscribeSync(&raw, eavesdropper->raw(),
                                       (std::string(broker::kEnrollInboxPrefix) + ".>").c_str()) ==
          NATS_OK);
  std::unique_ptr<natsSubscription, decltype(&natsSubscription_Destroy)> sub(
      raw, natsSubscription_Destroy);
  REQUIRE(eavesdropper->flush(2s).has_value());

  fs::path state = stack.dir() / "installer";
  auto out = agent::enroll::enroll(stack.options(stack.new_code(), state), machine(1));
  REQUIRE(out.has_value());
  auto creds = files::read_all(state / "agent.creds");
  REQUIRE(creds.has_value());
  auto jwt_at = creds->find("eyJ");
  REQUIRE(jwt_at != std::string::npos);
  const std::string jwt = creds->substr(jwt_at, creds->find('\n', jwt_at) - jwt_at);

  natsMsg* m = nullptr;
  REQUIRE(natsSubscription_NextMsg(&m, sub.get(), 5000) == NATS_OK);
  nats::Message seen(m);
  const std::string reply = text_of(seen);
  CAPTURE(reply);
  // It saw the reply go by, and learned nothing from it.
  CHECK(reply.find(jwt) == std::string::npos);
  CHECK(reply.find(jwt.substr(0, 40)) == std::string::npos);
  CHECK(reply.find(out->agent.str()) == std::string::npos);
  CHECK(reply.find(out->site_id) == std::string::npos);
  auto doc = json::parse(reply).as_object();
  REQUIRE(doc.contains("sealed"));
  auto sealed = broker::b64url_decode(doc.at("sealed").as_string());
  REQUIRE(sealed.has_value());
  auto stranger = broker::KeyPair::generate(broker::KeyRole::kUser);
  CHECK_FALSE(broker::open_sealed(stranger, *sealed).has_value());
  // Only the installer's key opens it.
  auto installer = broker::KeyPair::from_seed(creds_seed(state / "agent.creds"));
  REQUIRE(installer.has_value());
  auto opened = broker::open_sealed(*installer, *sealed);
  REQUIRE(opened.has_value());
  CHECK(opened->find(jwt) != std::string::npos);
}
