// rmm-updater against a real nats-server: every bad release is refused, with its reason, before
// anything on the machine changes. The updater runs as its test build (rmm-updater-testkeys),
// which trusts the two test keys; the agent binary it would replace is a scratch file.
#include <doctest/doctest.h>

#include <fstream>

#include "tests/fixtures/process.h"
#include "tests/updater/update_helpers.h"
#include "updater/release/subjects.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::vector<std::uint8_t> payload(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7);
  return v;
}

struct Run {
  int exit_code = -1;
  std::vector<codec::UpdateProgressInfo> steps;
  std::string log;
};

// Runs the updater for `version` against a fresh agent state; the agent "runs" `from`.
Run run_updater(const NatsServerFixture& nats, const TempDir& dir, const std::string& name,
                const std::string& version, const std::string& from, bool allow_downgrade = false) {
  AgentId id = AgentId::generate(real_clock());
  fs::path state = make_agent_state(dir / name, nats, id);
  fs::path bin = dir / name / "rmm-agent";
  std::ofstream(bin) << "the installed agent\n";
  std::vector<std::string> args = {"--state-dir",     state.string(),
                                   "--nats-url",      nats.url(),
                                   "--agent-binary",  bin.string(),
                                   "--version",       version,
                                   "--from-version",  from,
                                   "--command-id",    CommandId::generate(real_clock()).str(),
                                   "--fetch-timeout", "3s"};
  if (allow_downgrade) args.push_back("--allow-downgrade=true");
  fs::path log = dir / name / "updater.log";
  Process p = Process::start({kBinDir + "/rmm-updater-testkeys", args, {}, log});
  Run r;
  r.exit_code = p.wait(30s).value_or(-1);
  r.steps = spooled_progress(state);
  std::ifstream in(log);
  r.log.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::ifstream installed(bin);
  std::string content;
  std::getline(installed, content);
  CHECK_MESSAGE(content == "the installed agent", "the agent binary changed");
  return r;
}

void check_refused(const Run& r, const std::string& reason) {
  INFO("updater log: " << r.log);
  CHECK(r.exit_code == 1);
  CHECK(r.log.find("Sanitizer") == std::string::npos);  // sanitizer builds exit 1 on errors too
  REQUIRE(r.steps.size() == 2);
  CHECK(r.steps[0].step == schema::UpdateStep::Started);
  CHECK(r.steps[1].step == schema::UpdateStep::Refused);
  CHECK(r.steps[1].reason == reason);
}

}  // namespace

TEST_CASE("bad releases are refused with their reason and nothing is installed") {
  NatsServerFixture nats;
  TempDir dir("refusals");

  SUBCASE("tampered artifact: a chunk replaced after publishing") {
    auto r = make_release(payload(10'000, 1), "2.0.0", test_key(1));
    publish(nats, r);
    auto tampered = r;
    tampered.artifact[5000] ^= 0xff;  // chunk 1 of 3
    publish(nats, tampered);          // same manifest, chunk 1 replaced (one message per subject)
    check_refused(run_updater(nats, dir, "tampered", "2.0.0", "1.0.0"), "hash_mismatch");
  }
  SUBCASE("truncated: a chunk missing") {
    auto r = make_release(payload(10'000, 2), "2.0.1", test_key(1));
    release_tool::PublishOptions o;
    o.skip_chunk = 2;
    publish(nats, r, o);
    check_refused(run_updater(nats, dir, "truncated", "2.0.1", "1.0.0"), "truncated");
  }
  SUBCASE("bad signature: the manifest changed after signing") {
    auto r = make_release(payload(10'000, 3), "2.0.2", test_key(1));
    auto sig = r.signature;
    r.manifest.notes = "edited";
    resign(r, test_key(1));
    r.signature = sig;  // the old signature over the new bytes
    publish(nats, r);
    check_refused(run_updater(nats, dir, "badsig", "2.0.2", "1.0.0"), "bad_signature");
  }
  SUBCASE("unknown key") {
    auto r = make_release(payload(10'000, 4), "2.0.3", release::generate_key());
    publish(nats, r);
    check_refused(run_updater(nats, dir, "unknown", "2.0.3", "1.0.0"), "unknown_key");
  }
  SUBCASE("wrong arch: a signed aarch64 build where this machine's build belongs") {
    auto r = make_release(payload(10'000, 5), "2.0.4", test_key(1));
    r.manifest.arch = release::host_arch() == "aarch64" ? "x86_64" : "aarch64";
    resign(r, test_key(1));
    release_tool::PublishOptions o;
    o.prefix_override =
        release::release_prefix("2.0.4", release::host_platform(), release::host_arch());
    publish(nats, r, o);
    check_refused(run_updater(nats, dir, "arch", "2.0.4", "1.0.0"), "wrong_arch");
  }
  SUBCASE("downgrade refused unless allowed; the second key (rotation) is trusted too") {
    auto r = make_release(payload(10'000, 6), "1.5.0", test_key(2));
    publish(nats, r);
    check_refused(run_updater(nats, dir, "downgrade", "1.5.0", "1.6.0"), "downgrade");
    // Allowed: verification passes and the updater goes on to stop the agent, which needs a
    // watchdog; with none it fails there (no_supervisor), after Downloaded and Verified.
    auto allowed = run_updater(nats, dir, "allowed", "1.5.0", "1.6.0", true);
    INFO("updater log: " << allowed.log);
    CHECK(allowed.exit_code == 2);
    REQUIRE(allowed.steps.size() == 4);
    CHECK(allowed.steps[1].step == schema::UpdateStep::Downloaded);
    CHECK(allowed.steps[2].step == schema::UpdateStep::Verified);
    CHECK(allowed.steps[3].step == schema::UpdateStep::Failed);
    CHECK(allowed.steps[3].reason == "no_supervisor");
  }
  SUBCASE("a release that does not exist fails (not refused)") {
    auto r = run_updater(nats, dir, "missing", "9.9.9", "1.0.0");
    CHECK(r.exit_code == 2);
    REQUIRE(r.steps.size() == 2);
    CHECK(r.steps[1].step == schema::UpdateStep::Failed);
    CHECK(r.steps[1].reason == "not_found");
  }
}
