// Enrollment without servers: codes and their hashes, the request parser on hostile input, the
// fingerprint hash, the control events' round trip through the projector's fold, revocations.
#include <doctest/doctest.h>

#include <set>

#include "admin/claims.h"
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
      R"({{"version":1,"code":"{}","public_key":"{}","hostname":"h1",)"
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
      request("ABCDE", "UNOTAKEY"),
      request("ABCDE", broker::KeyPair::generate(broker::KeyRole::kAccount).public_key()),
      request(std::string(100, 'A'), key),
      request("ABCDE", key, R"(,"agent_id":"nope")"),
      request("ABCDE", key, R"(,"agent_id":7)"),
      fmt::format(R"({{"version":1,"code":"A","public_key":"{}","fingerprint":{{}}}})", key),
      fmt::format(R"({{"version":1,"code":"A","public_key":"{}","fingerprint":{{"macs":["x"]}}}})",
                  key),
      fmt::format(R"({{"version":1,"code":"A","public_key":"{}","hostname":"a\nb",)"
                  R"("fingerprint":{{"machine_id":"m"}}}})",
                  key),
      fmt::format(
          R"({{"version":1,"code":1,"public_key":"{}","fingerprint":{{"machine_id":"m"}}}})", key),
      std::string(e::kMaxRequestBytes + 1, ' '),
  };
  for (const auto& b : bad) {
    CAPTURE(b.substr(0, 120));
    auto r = e::parse_enroll_request(bytes(b));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Error::Code::kInvalidInput);
  }
}

TEST_CASE("the fingerprint hash ignores MAC order and case, and sees every field") {
  e::Fingerprint a{"m1", "s1", {"aa:bb:cc:dd:ee:01", "aa:bb:cc:dd:ee:02"}};
  e::Fingerprint b{"m1", "s1", {"aa:bb:cc:dd:ee:01", "aa:bb:cc:dd:ee:02"}};
  CHECK(e::fingerprint_hash(a) == e::fingerprint_hash(b));
  auto key = user_key();
  auto r1 = e::parse_enroll_request(bytes(
      fmt::format(R"({{"version":1,"code":"A","public_key":"{}","fingerprint":{{"machine_id":"m1",)"
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
  auto enrolled = codec::build_agent_enrolled(
      header(1), {agent, site, key, fp, code, std::string(300, 'h'), true});
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
