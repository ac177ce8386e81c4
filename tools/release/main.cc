// rmm-release: release keys, signed manifests, and publishing agent builds to the broker
// (docs/updates.md).
//   rmm-release keygen --out <key file>
//   rmm-release sign --key <key file> --artifact <file> --version <v> [--platform] [--arch] ...
//   rmm-release publish --manifest <file> --artifact <file> --nats-url ... --nats-creds ...
//   rmm-release verify --manifest <file> --artifact <file> --public-key <hex>
//   rmm-release rollout-create --version <v> --ring canary=<agent>,<agent> --ring all=100% ...
//   rmm-release rollout-controller --pg-url ... --nats-url ... --nats-creds ... --command-keys DIR
//                                  [--once]
#include <array>
#include <cstdio>
#include <pqxx/except>
#include <string_view>

#include "admin/command_keys.h"
#include "admin/tenancy/control_publisher.h"
#include "common/config.h"
#include "common/control_plane_events.h"
#include "common/files.h"
#include "common/log.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "common/nats_tls_settings.h"
#include "common/pg.h"
#include "common/service_inboxes.h"
#include "common/shutdown.h"
#include "tools/release/publish.h"
#include "tools/release/rollout/rollout_controller.h"
#include "tools/release/rollout/rollout_spec.h"
#include "updater/release/checks.h"
#include "updater/release/manifest.h"
#include "updater/release/signing.h"

namespace {

using namespace rmm;
using config::Setting;
using config::Type;

constexpr std::array<Setting, 1> kKeygen = {{
    {"out", Type::kString, "", "the private key file to create (mode 0600)", 0, 0, true},
}};
constexpr std::array<Setting, 9> kSign = {{
    {"key", Type::kString, "", "the private key file", 0, 0, true},
    {"artifact", Type::kString, "", "the agent binary", 0, 0, true},
    {"version", Type::kString, "", "the version the binary reports", 0, 0, true},
    {"platform", Type::kString, "linux", "linux, windows or macos"},
    {"arch", Type::kString, "x86_64", "x86_64 or aarch64"},
    {"min-from-version", Type::kString, "", "oldest version that may update to this one"},
    {"notes", Type::kString, "", "release notes"},
    {"chunk-size", Type::kInt, "262144", "bytes per chunk", 1024, 8 << 20},
    {"out", Type::kString, "", "manifest file to write (and <out>.sig)", 0, 0, true},
}};
constexpr std::array<Setting, 6> kPublish = {{
    {"manifest", Type::kString, "", "the manifest file (its .sig next to it)", 0, 0, true},
    {"artifact", Type::kString, "", "the agent binary", 0, 0, true},
    {"nats-url", Type::kString, "nats://127.0.0.1:4222", "broker URL"},
    {"nats-creds", Type::kString, "", "services credential", 0, 0, true},
    nats::kNatsCaSetting,
    nats::kNatsTlsNameSetting,
}};
constexpr std::array<Setting, 3> kVerify = {{
    {"manifest", Type::kString, "", "the manifest file (its .sig next to it)", 0, 0, true},
    {"artifact", Type::kString, "", "the agent binary", 0, 0, true},
    {"public-key", Type::kString, "", "hex Ed25519 public key to check against", 0, 0, true},
}};

constexpr std::array<Setting, 13> kRolloutCreate = {{
    {"version", Type::kString, "", "the release to roll out", 0, 0, true},
    {"platform", Type::kString, "linux", "linux, windows or macos"},
    {"arch", Type::kString, "x86_64", "x86_64 or aarch64"},
    {"scope", Type::kString, "global", "global, client, site or agent"},
    {"scope-id", Type::kString, "00000000-0000-0000-0000-000000000000",
     "the client, site or agent"},
    {"rings", Type::kString, "", "name=<agent id>+<agent id>,name=<percent>%,... in order", 0, 0,
     true},
    {"advance-healthy", Type::kInt, "100", "percent of a ring healthy before the next starts", 1,
     100},
    {"halt-failed", Type::kInt, "20", "percent of a ring failed that halts the rollout", 1, 100},
    {"nats-url", Type::kString, "nats://127.0.0.1:4222", "broker URL"},
    {"nats-creds", Type::kString, "", "services credential", 0, 0, true},
    nats::kNatsCaSetting,
    nats::kNatsTlsNameSetting,
    {"log-level", Type::kString, "info", "debug, info, warn or error"},
}};
constexpr std::array<Setting, 9> kController = {{
    {"pg-url", Type::kString, "", "the read models' database", 0, 0, true},
    {"nats-url", Type::kString, "nats://127.0.0.1:4222", "broker URL"},
    {"nats-creds", Type::kString, "", "the rollout controller's credential (rollout.creds)", 0, 0,
     true},
    nats::kNatsCaSetting,
    nats::kNatsTlsNameSetting,
    {"command-keys", Type::kString, "",
     "the command keys directory (<home>/command-keys): update_agent commands are signed", 0, 0,
     true},
    {"interval", Type::kDuration, "10s", "time between passes", 100, 3'600'000},
    {"once", Type::kBool, "false",
     "one pass, then exit (it acts only once the projection has folded the stream)"},
    {"log-level", Type::kString, "info", "debug, info, warn or error"},
}};

int usage() {
  std::fputs("usage: rmm-release <keygen|sign|publish|verify> [options]   (--help per command)\n",
             stderr);
  return 2;
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

int report(const Error& e) {
  std::fprintf(stderr, "rmm-release: %s\n", e.message.c_str());
  return 1;
}

int keygen(const config::Values& cfg) {
  auto key = release::generate_key();
  if (auto st = release::save_private_key(cfg.str("out"), key); !st) return report(st.error());
  std::printf("key_id %s\npublic_key %s\n", release::key_id(key.public_key).c_str(),
              release::public_key_hex(key.public_key).c_str());
  return 0;
}

int sign(const config::Values& cfg) {
  auto key = release::load_private_key(cfg.str("key"));
  if (!key) return report(key.error());
  auto artifact = files::read_all(cfg.str("artifact"));
  if (!artifact) return report(artifact.error());
  auto m =
      release::describe(bytes_of(*artifact), static_cast<std::uint64_t>(cfg.integer("chunk-size")));
  m.version = cfg.str("version");
  m.platform = cfg.str("platform");
  m.arch = cfg.str("arch");
  m.min_from_version = cfg.str("min-from-version");
  m.notes = cfg.str("notes");
  std::string json = release::to_json(m);
  if (auto parsed = release::parse_manifest(json); !parsed) return report(parsed.error());
  std::string sig = release::format_signature(release::sign(*key, json));
  std::string out = cfg.str("out");
  if (auto st = files::write_atomic(out, json, 0644); !st) return report(st.error());
  if (auto st = files::write_atomic(out + ".sig", sig + "\n", 0644); !st) return report(st.error());
  std::printf("signed %s %s/%s (%zu bytes, sha256 %s) with key %s\n", m.version.c_str(),
              m.platform.c_str(), m.arch.c_str(), artifact->size(), m.sha256.c_str(),
              release::key_id(key->public_key).c_str());
  return 0;
}

struct Loaded {
  std::string json;
  std::string signature;
  release::Manifest manifest;
  std::string artifact;
};

Result<Loaded> load(const config::Values& cfg) {
  Loaded l;
  auto json = files::read_all(cfg.str("manifest"));
  if (!json) return std::unexpected(json.error());
  auto sig = files::read_all(cfg.str("manifest") + ".sig");
  if (!sig) return std::unexpected(sig.error());
  auto artifact = files::read_all(cfg.str("artifact"));
  if (!artifact) return std::unexpected(artifact.error());
  auto m = release::parse_manifest(*json);
  if (!m) return std::unexpected(m.error());
  if (auto parsed = release::parse_signature(*sig); !parsed) return std::unexpected(parsed.error());
  if (auto ok = release::check_artifact(*m, bytes_of(*artifact)); !ok) {
    return failf("the artifact does not match the manifest: {}", ok.error().detail);
  }
  l.json = std::move(*json);
  l.signature = std::move(*sig);
  while (!l.signature.empty() && l.signature.back() == '\n') l.signature.pop_back();
  l.manifest = std::move(*m);
  l.artifact = std::move(*artifact);
  return l;
}

int publish(const config::Values& cfg) {
  auto l = load(cfg);
  if (!l) return report(l.error());
  nats::ConnectOptions opts;
  opts.url = cfg.str("nats-url");
  opts.creds_file = cfg.str("nats-creds");
  opts.tls_ca_file = cfg.str("nats-ca");
  opts.tls_server_name = cfg.str("nats-tls-name");
  opts.name = "rmm-release";
  auto conn = nats::Connection::connect(opts);
  if (!conn) return report(conn.error());
  auto js = nats::JetStream::create(**conn, {});
  if (!js) return report(js.error());
  auto published = release_tool::publish_release(**js, l->manifest, l->json, l->signature,
                                                 bytes_of(l->artifact));
  if (!published) return report(published.error());
  auto sig = release::parse_signature(l->signature);
  tenancy::ControlPublisher events(**js, "release", real_clock());
  codec::ReleasePublishedInfo info{
      l->manifest.version, l->manifest.platform, l->manifest.arch,
      l->manifest.size,    l->manifest.sha256,   l->json,
      l->signature,        sig->key_id,          tenancy::local_actor()};
  auto ack = events.publish(schema::Payload::ReleasePublished,
                            [&](const auto& h) { return codec::build_release_published(h, info); });
  if (!ack) return report(ack.error());
  std::printf("published %s (%llu chunks) under %s\n", l->manifest.version.c_str(),
              static_cast<unsigned long long>(published->chunks), published->prefix.c_str());
  return 0;
}

// The rollout commands' connection: rollout.creds may subscribe to its own inbox prefix only.
Result<std::unique_ptr<nats::Connection>> services(const config::Values& cfg) {
  nats::ConnectOptions opts;
  opts.url = cfg.str("nats-url");
  opts.creds_file = cfg.str("nats-creds");
  opts.tls_ca_file = cfg.str("nats-ca");
  opts.tls_server_name = cfg.str("nats-tls-name");
  opts.name = "rmm-release";
  opts.inbox_prefix = std::string(nats::kRolloutInboxPrefix);
  return nats::Connection::connect(opts);
}

int rollout_create(const config::Values& cfg) {
  codec::RolloutCreatedInfo info;
  info.rollout = RolloutId::generate(real_clock());
  info.version = cfg.str("version");
  info.platform = cfg.str("platform");
  info.arch = cfg.str("arch");
  auto scope = codec::scope_from_name(cfg.str("scope"));
  auto scope_id = uuid_from_string(cfg.str("scope-id"));
  if (!scope || !scope_id)
    return report(Error{Error::Code::kInvalidInput, "bad scope or scope-id"});
  info.scope = {*scope, *scope_id};
  std::string_view rings = cfg.str("rings");
  while (!rings.empty()) {
    auto comma = rings.find(',');
    auto ring = rollout::parse_ring_spec(rings.substr(0, comma));
    if (!ring) return report(ring.error());
    info.rings.push_back(std::move(*ring));
    rings = comma == std::string_view::npos ? std::string_view() : rings.substr(comma + 1);
  }
  info.advance_healthy_percent = static_cast<std::uint32_t>(cfg.integer("advance-healthy"));
  info.halt_failed_percent = static_cast<std::uint32_t>(cfg.integer("halt-failed"));
  info.by = {tenancy::local_actor(), ""};
  if (auto ok = rollout::check_rollout(info); !ok) return report(ok.error());
  auto conn = services(cfg);
  if (!conn) return report(conn.error());
  auto js = nats::JetStream::create(**conn, {});
  if (!js) return report(js.error());
  tenancy::ControlPublisher events(**js, "release", real_clock());
  auto ack = events.publish(schema::Payload::RolloutCreated,
                            [&](const auto& h) { return codec::build_rollout_created(h, info); });
  if (!ack) return report(ack.error());
  std::printf("rollout %s created (%zu rings)\n", info.rollout.str().c_str(), info.rings.size());
  return 0;
}

int rollout_controller(const config::Values& cfg) {
  if (auto level = log::parse_level(cfg.str("log-level")); level) log::set_level(*level);
  shutdown::install();
  auto conn = services(cfg);
  if (!conn) return report(conn.error());
  auto js = nats::JetStream::create(**conn, {});
  if (!js) return report(js.error());
  auto db = pg::connect(cfg.str("pg-url"));
  if (!db) return report(db.error());
  auto signer = broker::load_command_signer(cfg.str("command-keys"));
  if (!signer) return report(with_context(signer.error(), "setting 'command-keys'"));
  tenancy::ControlPublisher events(**js, "rollout", real_clock());
  rollout::RolloutController controller(**db, **js, events, signer->key, real_clock());
  do {
    try {
      auto actions = controller.run_once();
      if (!actions) log::error("rollout.pass_failed", {{"error", actions.error().message}});
    } catch (const pqxx::undefined_table& e) {
      // The projector has not applied its migrations yet (every unit of a fresh install starts
      // at once): nothing to decide until it has.
      log::warn("rollout.waiting_for_read_models", {{"error", e.what()}});
    } catch (const std::exception& e) {
      // A lost database connection: report, and let the supervisor restart us.
      return report(Error{Error::Code::kGeneric, e.what()});
    }
  } while (!cfg.flag("once") && !shutdown::wait_for(cfg.duration("interval")));
  return 0;
}

int verify(const config::Values& cfg) {
  auto l = load(cfg);
  if (!l) return report(l.error());
  auto key = release::parse_public_key(cfg.str("public-key"));
  if (!key) return report(key.error());
  std::array<release::TrustedKey, 1> trusted{{{release::key_id(*key), *key}}};
  if (auto ok = release::verify(trusted, l->signature, l->json); !ok) {
    std::fprintf(stderr, "rmm-release: %s\n",
                 std::string(release::problem_reason(ok.error())).c_str());
    return 1;
  }
  std::printf("ok %s %s/%s\n", l->manifest.version.c_str(), l->manifest.platform.c_str(),
              l->manifest.arch.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  log::set_component("release");
  if (argc < 2) return usage();
  std::string_view command = argv[1];
  struct Command {
    std::string_view name;
    std::span<const Setting> specs;
    int (*run)(const config::Values&);
    const char* summary;
  };
  const std::array<Command, 6> commands = {{
      {"keygen", kKeygen, keygen, "Creates an Ed25519 release key; prints its id and public key."},
      {"sign", kSign, sign, "Writes a signed manifest for an agent build."},
      {"publish", kPublish, publish, "Publishes a signed build to RMM_RELEASES."},
      {"verify", kVerify, verify, "Checks a manifest, its signature and the artifact."},
      {"rollout-create", kRolloutCreate, rollout_create, "Publishes a RolloutCreated event."},
      {"rollout-controller", kController, rollout_controller,
       "Advances, halts and completes rollouts from the read models."},
  }};
  for (const auto& c : commands) {
    if (c.name != command) continue;
    auto cfg = config::Values::load(c.specs, argc - 1, argv + 1);
    if (!cfg) return report(cfg.error());
    if (cfg->help_requested()) {
      std::fputs(
          config::usage("rmm-release " + std::string(c.name) + " [options]", c.summary, c.specs)
              .c_str(),
          stdout);
      return 0;
    }
    return c.run(*cfg);
  }
  return usage();
}
