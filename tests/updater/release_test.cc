// Releases without a broker: version order, the manifest's strict parsing, signatures and key
// ids, every refusal of check_manifest / check_chunk / check_artifact, and the spool format.
#include <doctest/doctest.h>

#include "common/files.h"
#include "common/update_events.h"
#include "tests/fixtures/temp_dir.h"
#include "updater/release/checks.h"
#include "updater/release/manifest.h"
#include "updater/release/signing.h"
#include "updater/release/subjects.h"
#include "updater/release/version.h"

using namespace rmm;
using namespace rmm::release;
using rmm::test::TempDir;

namespace {

std::vector<std::uint8_t> bytes(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 31 + 7);
  return v;
}

struct Signed {
  Manifest m;
  SignedManifest sm;
};

Signed make(const SigningKey& key, const std::string& version, std::vector<std::uint8_t> data) {
  Signed s;
  s.m = describe(data, 1024);
  s.m.version = version;
  s.m.platform = "linux";
  s.m.arch = "x86_64";
  s.m.min_from_version = "1.0.0";
  s.sm.manifest_json = to_json(s.m);
  s.sm.signature = format_signature(sign(key, s.sm.manifest_json));
  return s;
}

std::string reason(const std::expected<Manifest, Refusal>& r) {
  return r ? "accepted" : r.error().reason;
}

}  // namespace

TEST_CASE("versions order numerically, pre-releases before their release") {
  CHECK(compare_versions("1.2.10", "1.2.9") > 0);
  CHECK(compare_versions("1.2.0", "1.2") == 0);
  CHECK(compare_versions("0.1.0.1", "0.1.0") > 0);
  CHECK(compare_versions("1.3.0-rc1", "1.3.0") < 0);
  CHECK(compare_versions("1.3.0-rc2", "1.3.0-rc10") > 0);  // "rc2" vs "rc10" compare as text
  CHECK(compare_versions("2.0.0", "10.0.0") < 0);
}

TEST_CASE("subjects: version dots become underscores, names are checked") {
  CHECK(release_prefix("1.2.3", "linux", "x86_64") == "rmm.rel.1_2_3.linux.x86_64");
  CHECK(chunk_subject("rmm.rel.1_2_3.linux.x86_64", 7) == "rmm.rel.1_2_3.linux.x86_64.chunk.7");
  CHECK(valid_token("1.2.3-rc1"));
  CHECK_FALSE(valid_token("1 2"));
  CHECK_FALSE(valid_token("a.>"));
  CHECK_FALSE(valid_token(""));
}

TEST_CASE("manifest round trip and strict parsing") {
  auto m = describe(bytes(2500), 1024);
  m.version = "1.0.0";
  m.platform = "linux";
  m.arch = "x86_64";
  REQUIRE(m.chunk_sha256.size() == 3);
  auto back = parse_manifest(to_json(m));
  REQUIRE(back.has_value());
  CHECK(back->sha256 == m.sha256);
  CHECK(back->chunk_sha256 == m.chunk_sha256);
  CHECK(back->size == 2500);
  auto bad = m;
  bad.chunk_sha256.pop_back();
  CHECK_FALSE(parse_manifest(to_json(bad)).has_value());  // chunk count
  bad = m;
  bad.version = "1.0.0 ; rm";
  CHECK_FALSE(parse_manifest(to_json(bad)).has_value());
  CHECK_FALSE(parse_manifest("{\"format\":1}").has_value());
  CHECK_FALSE(parse_manifest("not json").has_value());
}

TEST_CASE("keys: files, ids, signatures, trusted lists") {
  TempDir dir("release_keys");
  auto key = generate_key();
  REQUIRE(save_private_key(dir / "k", key).has_value());
  CHECK_FALSE(save_private_key(dir / "k", key).has_value());  // never overwritten
  auto loaded = load_private_key(dir / "k");
  REQUIRE(loaded.has_value());
  CHECK(loaded->public_key == key.public_key);
  CHECK(key_id(key.public_key).size() == 16);
  auto sig = sign(key, "message");
  auto parsed = parse_signature(format_signature(sig));
  REQUIRE(parsed.has_value());
  CHECK(parsed->bytes == sig.bytes);
  auto trusted = parse_trusted_keys(public_key_hex(generate_key().public_key) + ", " +
                                    public_key_hex(key.public_key));
  REQUIRE(trusted.has_value());
  CHECK(trusted->size() == 2);
  CHECK(verify(*trusted, format_signature(sig), "message").has_value());
  CHECK(verify(*trusted, format_signature(sig), "massage").error() ==
        SignatureProblem::kBadSignature);
  CHECK(verify(*trusted, format_signature(sign(generate_key(), "message")), "message").error() ==
        SignatureProblem::kUnknownKey);
  CHECK(verify(*trusted, "garbage", "message").error() == SignatureProblem::kMalformed);
  CHECK_FALSE(parse_trusted_keys("abcd").has_value());
}

TEST_CASE("check_manifest refuses with the right reason") {
  auto key = generate_key();
  std::vector<TrustedKey> trusted{{key_id(key.public_key), key.public_key}};
  auto s = make(key, "2.0.0", bytes(3000));
  Expectation e{"2.0.0", "linux", "x86_64", "1.5.0", false, ""};
  CHECK(reason(check_manifest(trusted, s.sm, e)) == "accepted");

  auto other = generate_key();
  auto unknown = s.sm;
  unknown.signature = format_signature(sign(other, unknown.manifest_json));
  CHECK(reason(check_manifest(trusted, unknown, e)) == "unknown_key");
  auto tampered = s.sm;
  tampered.manifest_json[10] = tampered.manifest_json[10] == 'a' ? 'b' : 'a';
  CHECK(reason(check_manifest(trusted, tampered, e)) == "bad_signature");

  auto x = e;
  x.platform = "windows";
  CHECK(reason(check_manifest(trusted, s.sm, x)) == "wrong_platform");
  x = e;
  x.arch = "aarch64";
  CHECK(reason(check_manifest(trusted, s.sm, x)) == "wrong_arch");
  x = e;
  x.version = "2.0.1";
  CHECK(reason(check_manifest(trusted, s.sm, x)) == "wrong_version");
  x = e;
  x.current_version = "3.0.0";
  CHECK(reason(check_manifest(trusted, s.sm, x)) == "downgrade");
  x.allow_downgrade = true;
  CHECK(reason(check_manifest(trusted, s.sm, x)) == "accepted");
  x = e;
  x.current_version = "2.0.0";
  CHECK(reason(check_manifest(trusted, s.sm, x)) == "already_current");
  x = e;
  x.current_version = "0.9.0";  // below min_from_version 1.0.0
  CHECK(reason(check_manifest(trusted, s.sm, x)) == "too_old");
  x = e;
  x.sha256 = std::string(64, '0');
  CHECK(reason(check_manifest(trusted, s.sm, x)) == "hash_mismatch");
}

TEST_CASE("chunks and the artifact are checked against the manifest") {
  auto data = bytes(2500);
  auto m = describe(data, 1024);
  std::span<const std::uint8_t> all(data);
  CHECK(check_chunk(m, 0, all.first(1024)).has_value());
  CHECK(check_chunk(m, 2, all.subspan(2048)).has_value());
  CHECK(check_chunk(m, 2, all.subspan(2048, 100)).error().reason == "truncated");
  auto changed = data;
  changed[1500] ^= 1;
  CHECK(check_chunk(m, 1, std::span<const std::uint8_t>(changed).subspan(1024, 1024))
            .error()
            .reason == "hash_mismatch");
  CHECK(check_artifact(m, data).has_value());
  CHECK(check_artifact(m, all.first(2000)).error().reason == "truncated");
  CHECK(check_artifact(m, changed).error().reason == "hash_mismatch");
}

TEST_CASE("the spool keeps events in order, with every field, and skips broken files") {
  TempDir dir("spool");
  auto cmd = CommandId::generate(real_clock());
  codec::UpdateProgressInfo u{
      cmd, "1.0.0", "2.0.0", schema::UpdateStep::Refused, "downgrade", "line one\nline two \\ end"};
  codec::WatchdogAlertInfo w{schema::WatchdogAlertKind::MemoryLimit, 3, 300, "rss", 12345, 42.5f};
  REQUIRE(spool::write(dir.path(), u, 100).has_value());
  REQUIRE(spool::write(dir.path(), w, 200).has_value());
  REQUIRE(files::write_atomic(spool::spool_dir(dir.path()) / "00000000000000000150-x.ev",
                              "type=nonsense\n")
              .has_value());
  std::vector<std::filesystem::path> bad;
  auto entries = spool::list(dir.path(), &bad);
  REQUIRE(entries.has_value());
  REQUIRE(entries->size() == 2);
  CHECK(bad.size() == 1);
  const auto& a = std::get<codec::UpdateProgressInfo>((*entries)[0].event);
  CHECK(a.command == cmd);
  CHECK(a.step == schema::UpdateStep::Refused);
  CHECK(a.reason == "downgrade");
  CHECK(a.detail == u.detail);
  const auto& b = std::get<codec::WatchdogAlertInfo>((*entries)[1].event);
  CHECK(b.kind == schema::WatchdogAlertKind::MemoryLimit);
  CHECK(b.rss_bytes == 12345);
  CHECK(b.cpu_percent == doctest::Approx(42.5));
  // The envelope the agent builds from it verifies and carries the payload.
  auto env_bytes = spool::build((*entries)[0], {EventId::generate(real_clock()),
                                                AgentId::generate(real_clock()), AgentSeq{7}, 0});
  auto env = codec::verify_event(env_bytes);
  REQUIRE(env.has_value());
  CHECK((*env)->payload_type() == schema::Payload::UpdateProgress);
  CHECK((*env)->occurred_at_ns() == 100);
  CHECK((*env)->payload_as_UpdateProgress()->reason()->str() == "downgrade");
}
