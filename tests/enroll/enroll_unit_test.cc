// Enrollment without servers: codes and their hashes, the request parser on hostile input, the
// proof of possession and the sealed reply, the fingerprint hash, the control events' round trip
// through the projector's fold, revocations.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <set>

#include "admin/claims.h"
#include "admin/enroll_crypto.h"
#include "admin/files.h"
#include "admin/jwt.h"
#include "admin/nkeys.h"
#include "admin/revocations.h"
#include "admin/tenancy/enrollment_codes.h"
#include "agent/enroll/fingerprint.h"
#include "api/enroll/enroll_protocol.h"
#include "common/control_events.h"
#include "common/event_codec.h"
#include "projector/folds/control_fold.h"
#include "projector/folds/decode.h"

using namespace rmm;
namespace e = rmm::api::enroll;

namespace {

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string user_key() {
  return broker::KeyPair::generate(broker::KeyRole::kUser).public_key();
}

std::string request(std::string_view code, std::string_view key, std::string_view extra = "") {
  return fmt::format(
      R"({{"version":2,"code":"{}","public_key":"{}","hostname":"h1",)"
      R"("fingerprint":{{"machine_id":"abc","dmi_serial":"","macs":["52:54:00:AA:bb:01"]}}{}}})",
      code, key, extra);
}

codec::ControlEventHeader header(std::uint64_t seq) {
  return {EventId::generate(real_clock()), ControlSourceId::generate(real_clock()), "test", seq,
          real_clock().now()};
}

}  // namespace

TEST_CASE("enrollment codes: 125 random bits, normalised before hashing, never equal") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto code = tenancy::generate_enrollment_code();
    CHECK(code.size() == 29);  // 25 characters and 4 dashes
    CHECK(seen.insert(code).second);
    auto n = tenancy::normalise_enrollment_code(code);
    REQUIRE(n.has_value());
    CHECK(n->size() == tenancy::kCodeChars);
  }
  auto code = *seen.begin();
  std::string lower;
  for (char c : code) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto a = tenancy::enrollment_code_hash(*tenancy::normalise_enrollment_code(code));
  auto b = tenancy::enrollment_code_hash(*tenancy::normalise_enrollment_code(lower));
  CHECK(a == b);
  CHECK(a.size() == 64);
  CHECK(a.find(code.substr(0, 5)) == std::string::npos);
  CHECK_FALSE(tenancy::normalise_enrollment_code("short").has_value());
  CHECK_FALSE(tenancy::normalise_enrollment_code(code + "A").has_value());
  CHECK_FALSE(tenancy::normalise_enrollment_code("01890-AAAAA-AAAAA-AAAAA-AAAAA").has_value());
}

TEST_CASE("the enrollment request parser checks every field") {
  auto key = user_key();
  auto ok = e::parse_enroll_request(bytes(request("ABCDE", key)));
  REQUIRE(ok.has_value());
  CHECK(ok->public_key == key);
  CHECK(ok->fingerprint.macs == std::vector<std::string>{"52:54:00:aa:bb:01"});
  CHECK_FALSE(ok->previous_agent.has_value());

  auto id = AgentId::generate(real_clock());
  auto with_id = e::parse_enroll_request(
      bytes(request("ABCDE", key, fmt::format(R"(,"agent_id":"{}")", id.str()))));
  REQUIRE(with_id.has_value());
  CHECK(with_id->previous_agent == id);

  const std::string bad[] = {
      "",
      "[]",
      "not json",
      R"({"version":2})",
      R"({"version":"2"})",
      request("ABCDE", "UNOTAKEY"),
      request("ABCDE", broker::KeyPair::generate(broker::KeyRole::kAccount).public_key()),
      request(std::string(100, 'A'), key),
      request("ABCDE", key, R"(,"agent_id":"nope")"),
      request("ABCDE", key, R"(,"agent_id":7)"),
      fmt::format(R"({{"version":2,"code":"A","public_key":"{}","fingerprint":{{}}}})", key),
      fmt::format(R"({{"version":2,"code":"A","public_key":"{}","fingerprint":{{"macs":["x"]}}}})",
                  key),
      fmt::format(R"({{"version":2,"code":"A","public_key":"{}","hostname":"a\nb",)"
                  R"("fingerprint":{{"machine_id":"m"}}}})",
                  key),
      fmt::format(
          R"({{"version":2,"code":1,"public_key":"{}","fingerprint":{{"machine_id":"m"}}}})", key),
      std::string(e::kMaxRequestBytes + 1, ' '),
  };
  for (const auto& b : bad) {
    CAPTURE(b.substr(0, 120));
    auto r = e::parse_enroll_request(bytes(b));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Error::Code::kInvalidInput);
  }

  // Protocol 1 (and anything but 2) is told apart, so the agent learns to upgrade.
  for (auto v : {"1", "3"}) {
    auto old = e::parse_enroll_request(bytes(fmt::format(R"({{"version":{},"code":"A"}})", v)));
    REQUIRE_FALSE(old.has_value());
    CHECK(old.error().code == Error::Code::kNotSupported);
    CHECK(old.error().message.find("upgrade rmm-agent") != std::string::npos);
  }
}

TEST_CASE("the re-enrollment proof is parsed strictly and verifies only for what it binds") {
  auto current = broker::KeyPair::generate(broker::KeyRole::kUser);
  auto fresh = user_key();
  auto id = AgentId::generate(real_clock());
  const std::int64_t at = 1'700'000'000;
  auto sig = current.sign(broker::reenroll_proof_message(id, fresh, "ABCDE", at));
  std::string sig_text =
      broker::b64url_encode(std::string_view(reinterpret_cast<const char*>(sig.data()), 64));
  auto proof = [&](std::string_view key, std::string_view issued, std::string_view signature) {
    return fmt::format(R"(,"agent_id":"{}","proof":{{"public_key":"{}","issued_at":{},)"
                       R"("signature":"{}"}})",
                       id.str(), key, issued, signature);
  };
  auto ok = e::parse_enroll_request(
      bytes(request("ABCDE", fresh, proof(current.public_key(), "1700000000", sig_text))));
  REQUIRE_MESSAGE(ok.has_value(), (ok ? "" : ok.error().message));
  REQUIRE(ok->proof.has_value());
  CHECK(ok->proof->public_key == current.public_key());
  CHECK(ok->proof->issued_at == at);
  auto verifies = [&](const AgentId& a, std::string_view key, std::string_view code,
                      std::int64_t t) {
    return broker::verify_signature(current.public_key(),
                                    broker::reenroll_proof_message(a, key, code, t),
                                    ok->proof->signature);
  };
  CHECK(verifies(id, fresh, "ABCDE", at));
  CHECK_FALSE(verifies(AgentId::generate(real_clock()), fresh, "ABCDE", at));
  CHECK_FALSE(verifies(id, user_key(), "ABCDE", at));
  CHECK_FALSE(verifies(id, fresh, "ABCDF", at));
  CHECK_FALSE(verifies(id, fresh, "ABCDE", at + 1));

  const std::string bad[] = {
      request("ABCDE", fresh, proof(current.public_key(), "\"1\"", sig_text)),
      request("ABCDE", fresh, proof("UNOTAKEY", "1", sig_text)),
      request("ABCDE", fresh, proof(current.public_key(), "1", "c2hvcnQ")),
      request("ABCDE", fresh, proof(current.public_key(), "1", "!!")),
      // A proof without the id it proves.
      request("ABCDE", fresh,
              fmt::format(R"(,"proof":{{"public_key":"{}","issued_at":1,"signature":"{}"}})",
                          current.public_key(), sig_text)),
      request("ABCDE", fresh, fmt::format(R"(,"agent_id":"{}","proof":[])", id.str())),
  };
  for (const auto& b : bad) {
    CAPTURE(b);
    auto r = e::parse_enroll_request(bytes(b));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Error::Code::kInvalidInput);
  }
}

TEST_CASE("an accepted reply is sealed to the requester's new key") {
  auto requester = broker::KeyPair::generate(broker::KeyRole::kUser);
  auto agent = AgentId::generate(real_clock());
  auto reply = e::accepted_reply(agent, "site-1", "eyJ.secret.jwt", true, requester.public_key());
  REQUIRE(reply.has_value());
  CHECK(reply->find("eyJ.secret.jwt") == std::string::npos);
  CHECK(reply->find(agent.str()) == std::string::npos);
  auto doc = boost::json::parse(*reply).as_object();
  CHECK(doc.at("version").as_int64() == e::kProtocolVersion);
  auto sealed = broker::b64url_decode(doc.at("sealed").as_string());
  REQUIRE(sealed.has_value());
  auto opened = broker::open_sealed(requester, *sealed);
  REQUIRE(opened.has_value());
  auto inner = boost::json::parse(*opened).as_object();
  CHECK(inner.at("agent_id").as_string() == agent.str());
  CHECK(inner.at("jwt").as_string() == "eyJ.secret.jwt");
  CHECK(inner.at("reenrolled").as_bool());
  CHECK(inner.if_contains("moved_from_site_id") == nullptr);

  // A re-enrollment that moved the agent says from where, sealed with the rest.
  auto moved = e::accepted_reply(agent, "site-2", "j", true, requester.public_key(), {}, "site-1");
  REQUIRE(moved.has_value());
  CHECK(moved->find("site-1") == std::string::npos);
  auto moved_doc = boost::json::parse(*moved).as_object();
  auto moved_inner =
      broker::open_sealed(requester, *broker::b64url_decode(moved_doc.at("sealed").as_string()));
  REQUIRE(moved_inner.has_value());
  CHECK(boost::json::parse(*moved_inner).as_object().at("moved_from_site_id").as_string() ==
        "site-1");

  CHECK_FALSE(
      broker::open_sealed(broker::KeyPair::generate(broker::KeyRole::kUser), *sealed).has_value());
  std::string altered = *sealed;
  altered.back() = static_cast<char>(altered.back() ^ 1);
  CHECK_FALSE(broker::open_sealed(requester, altered).has_value());
  CHECK_FALSE(e::accepted_reply(agent, "s", "j", false, "UNOTAKEY").has_value());
}

TEST_CASE("replies go only to enrollment inboxes") {
  for (auto ok : {"_INBOX_ENROLL.abc", "_INBOX_ENROLL.Ab9_-x.17", "_INBOX_ENROLL.a.b"}) {
    CHECK_MESSAGE(e::is_enroll_inbox(ok), ok);
  }
  for (auto bad : {"", "_INBOX_ENROLL", "_INBOX_ENROLL.", "_INBOX_ENROLL..x", "_INBOX_ENROLL.a.",
                   "_INBOX_ENROLL.a.b.c", "_INBOX_ENROLLX.a", "_INBOX.a", "rmm.cmd.x",
                   "rmm.ctl.agent.agent_revoked", "rmm.evt.x.heartbeat", "_INBOX_ENROLL.a*",
                   "_INBOX_ENROLL.>", " _INBOX_ENROLL.a"}) {
    CHECK_FALSE_MESSAGE(e::is_enroll_inbox(bad), bad);
  }
  CHECK_FALSE(e::is_enroll_inbox("_INBOX_ENROLL." + std::string(200, 'a')));
}

TEST_CASE("a credentials file gives back its key") {
  auto key = broker::KeyPair::generate(broker::KeyRole::kUser);
  auto back = broker::key_from_creds(broker::format_creds("eyJ.x.y", key.seed()));
  REQUIRE(back.has_value());
  CHECK(back->public_key() == key.public_key());
  CHECK_FALSE(broker::key_from_creds("no seed here").has_value());
  auto account = broker::KeyPair::generate(broker::KeyRole::kAccount);
  CHECK_FALSE(broker::key_from_creds(broker::format_creds("eyJ.x.y", account.seed())).has_value());
}

TEST_CASE("the fingerprint hash ignores MAC order and case, and sees every field") {
  e::Fingerprint a{"m1", "s1", {"aa:bb:cc:dd:ee:01", "aa:bb:cc:dd:ee:02"}};
  e::Fingerprint b{"m1", "s1", {"aa:bb:cc:dd:ee:01", "aa:bb:cc:dd:ee:02"}};
  CHECK(e::fingerprint_hash(a) == e::fingerprint_hash(b));
  auto key = user_key();
  auto r1 = e::parse_enroll_request(bytes(
      fmt::format(R"({{"version":2,"code":"A","public_key":"{}","fingerprint":{{"machine_id":"m1",)"
                  R"("dmi_serial":"s1","macs":["AA:BB:CC:DD:EE:02","aa:bb:cc:dd:ee:01"]}}}})",
                  key)));
  REQUIRE(r1.has_value());
  CHECK(e::fingerprint_hash(r1->fingerprint) == e::fingerprint_hash(a));
  b.machine_id = "m2";
  CHECK(e::fingerprint_hash(a) != e::fingerprint_hash(b));
  b = a;
  b.macs.pop_back();
  CHECK(e::fingerprint_hash(a) != e::fingerprint_hash(b));
  // Field boundaries are part of the canonical form.
  CHECK(e::fingerprint_hash({"m1s1", "", {}}) != e::fingerprint_hash({"m1", "s1", {}}));
}

TEST_CASE("virtual interfaces stay out of the machine fingerprint") {
  for (auto name : {"lo", "docker0", "veth12ab", "br-1234", "virbr0", "tun0", "wg0", "cni0"}) {
    CHECK(agent::enroll::is_virtual_interface(name));
  }
  for (auto name : {"eth0", "enp3s0", "wlp2s0", "eno1", "ens160"}) {
    CHECK_FALSE(agent::enroll::is_virtual_interface(name));
  }
}

TEST_CASE("control events survive the wire and fold into typed changes") {
  auto agent = AgentId::generate(real_clock());
  auto site = SiteId::generate(real_clock());
  auto code = EnrollmentCodeId::generate(real_clock());
  auto key = user_key();
  std::string fp(64, 'a');
  auto retired = user_key();
  auto enrolled = codec::build_agent_enrolled(
      header(1), {agent, site, key, fp, code, std::string(300, 'h'), true, {retired}});
  auto subject =
      "rmm.ctl.agent." + std::string(codec::control_type_token(schema::Payload::AgentEnrolled));
  CHECK(codec::control_event_subject(schema::Payload::AgentEnrolled) == subject);
  auto decoded = projector::decode_message(subject, enrolled);
  REQUIRE(std::holds_alternative<projector::ControlEvent>(decoded));
  const auto& change =
      std::get<codec::AgentEnrolledInfo>(std::get<projector::ControlEvent>(decoded).change);
  CHECK(change.agent == agent);
  CHECK(change.site == site);
  CHECK(change.public_key == key);
  CHECK(change.hostname == std::string(255, 'h'));  // bounded like every agent-supplied string
  CHECK(change.reenrolled);
  CHECK(change.retired_public_keys == std::vector<std::string>{retired});

  SUBCASE("a payload that does not match its subject is a dead letter") {
    auto d = projector::decode_message("rmm.ctl.agent.agent_revoked", enrolled);
    CHECK(std::holds_alternative<projector::DeadLetter>(d));
  }
  SUBCASE("a code hash that is not a SHA-256 is a dead letter") {
    auto bad = codec::build_enrollment_code_created(header(2), {code, site, "secret", 0, "x"});
    auto d = projector::decode_message("rmm.ctl.enrollment.enrollment_code_created", bad);
    REQUIRE(std::holds_alternative<projector::DeadLetter>(d));
    CHECK(std::get<projector::DeadLetter>(d).reason.find("code_hash") != std::string::npos);
  }
  SUBCASE("a retired key that is not a user key is a dead letter") {
    auto bad = codec::build_agent_enrolled(
        header(4), {agent, site, key, fp, code, "h", true, {"ANOTAUSERKEY"}});
    auto d = projector::decode_message(subject, bad);
    REQUIRE(std::holds_alternative<projector::DeadLetter>(d));
    CHECK(std::get<projector::DeadLetter>(d).reason.find("retired") != std::string::npos);
  }
  SUBCASE("a missing id is a dead letter that names it") {
    auto bad = codec::build_client_created(
        header(3), {ClientId::generate(real_clock()), PartnerId(), "Acme", "x"});
    auto d = projector::decode_message("rmm.ctl.client.client_created", bad);
    REQUIRE(std::holds_alternative<projector::DeadLetter>(d));
    CHECK(std::get<projector::DeadLetter>(d).reason.find("partner_id") != std::string::npos);
  }
  SUBCASE("an agent may not forge a control event") {
    codec::AgentEventHeader h{EventId::generate(real_clock()), agent, AgentSeq{1},
                              real_clock().now()};
    flatbuffers::FlatBufferBuilder fbb;
    auto c = codec::to_wire(code.bytes());
    auto p = schema::CreateEnrollmentCodeRevokedDirect(fbb, &c, "me");
    auto forged =
        codec::finish_agent_event(fbb, h, schema::Payload::EnrollmentCodeRevoked, p.Union());
    auto d = projector::decode_message("rmm.ctl.enrollment.enrollment_code_revoked", forged);
    CHECK(std::holds_alternative<projector::DeadLetter>(d));
  }
  SUBCASE("control events of types this build does not fold are ignored") {
    CHECK(std::holds_alternative<projector::Ignored>(
        projector::decode_message("rmm.ctl.clock.not_yet_invented", enrolled)));
  }
}

TEST_CASE("revocations land in the account claims and in the rendered config") {
  broker::AccountSpec spec{.name = "RMM", .revocations = {{user_key(), 1700000000}}};
  auto claims = broker::account_claims(
      broker::KeyPair::generate(broker::KeyRole::kAccount).public_key(), spec);
  const auto& revoked = claims.at("nats").as_object().at("revocations").as_object();
  CHECK(revoked.size() == 1);
  CHECK(revoked.begin()->value().as_int64() == 1700000000);

  std::string config = "resolver_preload: {\n  ASYS: \"old.sys\"\n  ARMM: \"old.rmm\"\n}\n";
  auto updated = broker::replace_preloaded_jwt(config, "ARMM", "new.rmm");
  REQUIRE(updated.has_value());
  CHECK(*updated == "resolver_preload: {\n  ASYS: \"old.sys\"\n  ARMM: \"new.rmm\"\n}\n");
  CHECK_FALSE(broker::replace_preloaded_jwt(config, "AOTHER", "x").has_value());
}

TEST_CASE("a user with allow lists carries exactly those permissions") {
  broker::UserSpec spec{
      .name = "enroll", .pub_allow = {"rmm.enroll.request"}, .sub_allow = {"_INBOX_ENROLL.>"}};
  auto claims = broker::user_claims(user_key(), spec);
  const auto& nats = claims.at("nats").as_object();
  CHECK(nats.at("pub").at("allow").as_array().size() == 1);
  CHECK(nats.at("pub").at("allow").as_array()[0].as_string() == "rmm.enroll.request");
  CHECK(nats.at("sub").at("allow").as_array()[0].as_string() == "_INBOX_ENROLL.>");
}
