// rmm-admin: mints the NATS identity, renders the nats-server config, applies stream definitions
// and issues agent credentials. See broker-config/README.md for the typical sequence.
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <span>
#include <string_view>

#include "admin/command_consumer.h"
#include "admin/command_key_commands.h"
#include "admin/command_keys.h"
#include "admin/files.h"
#include "admin/identity.h"
#include "admin/leaf_commands.h"
#include "admin/leaf_config.h"
#include "admin/server_config.h"
#include "admin/stream_report.h"
#include "admin/streams.h"
#include "admin/tenancy_commands.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/files.h"
#include "common/ids.h"
#include "common/install_paths.h"
#include "common/nats_tls_settings.h"
#include "common/nats_urls.h"

namespace {

namespace fs = std::filesystem;
using rmm::config::Setting;
using rmm::config::Type;

constexpr std::int64_t kAny = std::numeric_limits<std::int64_t>::max();

constexpr Setting kHome{"home", Type::kString, "",  "installation home; keys live in <home>/nats",
                        -kAny,  kAny,          true};

constexpr Setting kInitSettings[] = {kHome};

constexpr Setting kRenderSettings[] = {
    kHome,
    {"nats-host", Type::kString, "127.0.0.1",
     "client listen address; anything but loopback needs --tls-cert and --tls-key"},
    {"nats-port", Type::kInt, "", "client port nats-server listens on", 1, 65535, true},
    {"nats-monitor-port", Type::kInt, "0", "HTTP monitor port on 127.0.0.1; 0 = none", 0, 65535},
    {"jetstream-dir", Type::kString, "", "JetStream store dir (default <home>/nats/jetstream)"},
    {"max-file-store", Type::kSize, "0",
     "JetStream's store limit; 0 = the size of the store's filesystem (the streams' limits bound "
     "it)",
     0, kAny},
    {"tls-cert", Type::kString, "",
     "server certificate (PEM); with --tls-key, TLS is required for every client"},
    {"tls-key", Type::kString, "", "the certificate's private key (PEM)"},
    {"tls-ca", Type::kString, "",
     "the CA that issued every node's certificate (PEM): cluster routes verify each other with it"},
    {"cluster-nodes", Type::kString, "",
     "a cluster's route addresses, host:port,host:port,... (every node, same order everywhere); "
     "empty = a single server"},
    {"node", Type::kInt, "0", "this server's place in --cluster-nodes (1..N)", 0, 64},
    {"cluster-name", Type::kString, "gururmm", "the cluster's name (the same on every node)"},
    {"cluster-listen", Type::kString, "",
     "where the route listener binds (host:port); default: this node's --cluster-nodes entry"},
    {"leafnode-port", Type::kInt, "0",
     "port site leaf nodes connect to (JetStream domain `hub`, docs/operations.md); 0 = none", 0,
     65535},
    {"leafnode-advertise", Type::kString, "",
     "host:port leaf nodes reach the hub at (what they reconnect to); default: the listen address"},
    {"out", Type::kString, "", "file to write the config to (mode 0600)", -kAny, kAny, true},
};

constexpr std::int64_t kDayMs = 86'400'000;

constexpr Setting kApplySettings[] = {
    {"nats-url", Type::kString, "nats://127.0.0.1:4222", "NATS server URL"},
    {"nats-creds", Type::kString, "", "services user .creds file", -kAny, kAny, true},
    rmm::nats::kNatsCaSetting,
    rmm::nats::kNatsTlsNameSetting,
    {"streams-dir", Type::kString, rmm::install_paths::kStreamsDir,
     "directory of stream definitions (*.json)"},
    {"timeout", Type::kDuration, "5s", "per-request timeout", 100, 600'000},
    {"storage-budget", Type::kSize, "0",
     "bytes all streams may use together; 0 = half of what jetstream-dir's disk has free plus "
     "what the streams hold",
     0, kAny},
    {"jetstream-dir", Type::kString, "", "the broker's JetStream store dir (sizes the budget)"},
    {"events-max-bytes", Type::kSize, "0",
     "RMM_EVENTS byte limit (discard old); 0 = keep the current one, else 80 % of the budget", 0,
     kAny},
    {"events-max-age", Type::kDuration, "0d",
     "RMM_EVENTS: telemetry kept this long (at least 1d); 0 = as its definition says (400d)", 0,
     100 * 366 * kDayMs},
    {"control-max-bytes", Type::kSize, "0",
     "RMM_CONTROL byte limit (discard new: never deletes); 0 = current, else 5 % of the budget", 0,
     kAny},
    {"commands-max-bytes", Type::kSize, "0",
     "RMM_COMMANDS byte limit (discard new); 0 = current, else 5 % of the budget", 0, kAny},
    {"commands-max-age", Type::kDuration, "0d",
     "RMM_COMMANDS: kept this long (at least 8d: past the longest command expiry, 7d); 0 = as "
     "its definition says (30d)",
     0, 366 * kDayMs},
    {"releases-max-bytes", Type::kSize, "0",
     "RMM_RELEASES byte limit (discard new); 0 = current, else 10 % of the budget", 0, kAny},
    {"replicas", Type::kInt, "1",
     "copies of every stream: 1 (one server), 3 or 5 (a cluster of at least that many nodes); "
     "applying a higher count moves existing streams to it",
     1, 5},
    {"site-events-max-bytes", Type::kSize, "0",
     "RMM_SITE_EVENTS byte limit, on a site's leaf node (discard new); 0 = current, else 80 % of "
     "the budget",
     0, kAny},
    {"force", Type::kBool, "false",
     "accept limits below what a stream holds (nats-server deletes its oldest messages) and fewer "
     "replicas than a stream has"},
};

constexpr Setting kUsageSettings[] = {
    {"nats-url", Type::kString, "nats://127.0.0.1:4222", "NATS server URL"},
    {"nats-creds", Type::kString, "", "services user .creds file", -kAny, kAny, true},
    rmm::nats::kNatsCaSetting,
    rmm::nats::kNatsTlsNameSetting,
    {"streams-dir", Type::kString, rmm::install_paths::kStreamsDir,
     "directory of stream definitions (*.json): the streams to report"},
    {"warn-at", Type::kInt, "80", "warn when a discard-new stream is this % full", 1, 100},
};

constexpr Setting kAgentSettings[] = {
    kHome,
    {"state-dir", Type::kString, "", "agent state dir: gets agent_id and agent.creds", -kAny, kAny,
     true},
    {"nats-url", Type::kString, "", "when set: also create the agent's command consumer there"},
    {"nats-creds", Type::kString, "", "services user .creds (default <home>/nats/services.creds)"},
    rmm::nats::kNatsCaSetting,
    rmm::nats::kNatsTlsNameSetting,
};

int fail_with(const rmm::Error& e) {
  std::fprintf(stderr, "rmm-admin: %s\n", e.message.c_str());
  return 1;
}

int run_init(const rmm::config::Values& v) {
  auto id = rmm::broker::init_identity(v.str("home"));
  if (!id) return fail_with(id.error());
  auto command_key = rmm::broker::init_command_keys(v.str("home"));
  if (!command_key) return fail_with(command_key.error());
  fmt::print(
      "identity ready in {}\noperator {}\naccount SYS {}\naccount RMM {}\n"
      "services creds {}\ncommand key {}\n",
      id->dir.string(), id->operator_key.public_key(), id->sys_account.public_key(),
      id->rmm_account.public_key(), id->services_creds().string(), *command_key);
  return 0;
}

int run_render(const rmm::config::Values& v) {
  fs::path home = v.str("home");
  auto id = rmm::broker::load_identity(home);
  if (!id) return fail_with(id.error());
  rmm::broker::ServerConfigOptions options;
  options.host = v.str("nats-host");
  options.port = static_cast<int>(v.integer("nats-port"));
  options.tls_cert = v.str("tls-cert");
  options.tls_key = v.str("tls-key");
  options.monitor_port = static_cast<int>(v.integer("nats-monitor-port"));
  options.jetstream_dir =
      v.str("jetstream-dir").empty() ? id->dir / "jetstream" : fs::path(v.str("jetstream-dir"));
  options.max_file_store = v.size("max-file-store");
  options.tls_ca = v.str("tls-ca");
  if (!v.str("cluster-nodes").empty()) {
    auto nodes = rmm::nats::split_urls(v.str("cluster-nodes"));
    if (!nodes) return fail_with(rmm::with_context(nodes.error(), "cluster-nodes"));
    if (v.integer("node") == 0) return fail_with({.message = "--cluster-nodes needs --node"});
    options.cluster = {.name = v.str("cluster-name"),
                       .nodes = std::move(*nodes),
                       .node = static_cast<int>(v.integer("node")),
                       .listen = v.str("cluster-listen")};
  } else if (v.integer("node") != 0) {
    return fail_with({.message = "--node needs --cluster-nodes"});
  }
  options.leafnode_port = static_cast<int>(v.integer("leafnode-port"));
  options.leafnode_advertise = v.str("leafnode-advertise");
  if (options.leafnode_port != 0) options.jetstream_domain = rmm::broker::kHubDomain;
  auto text = rmm::broker::render_server_config(*id, options);
  if (!text) return fail_with(text.error());
  if (auto s = rmm::files::write_atomic(v.str("out"), *text, 0600); !s) {
    return fail_with(s.error());
  }
  return 0;
}

// The shortest age each age setting accepts when it is not 0: telemetry for at least a day, and
// commands past the longest expiry the API accepts (7 days), so none ages out unexpired.
std::chrono::milliseconds min_age(std::string_view setting) {
  return setting == "commands-max-age" ? std::chrono::days(8) : std::chrono::days(1);
}

rmm::Result<rmm::broker::LimitSettings> limit_settings(const rmm::config::Values& v) {
  rmm::broker::LimitSettings limits;
  limits.storage_budget = v.size("storage-budget");
  limits.jetstream_dir = v.str("jetstream-dir");
  limits.force = v.flag("force");
  for (const auto& m : rmm::broker::kManagedStreams) {
    const std::string stream(m.stream);
    if (auto bytes = v.size(m.bytes_setting); bytes > 0) limits.max_bytes[stream] = bytes;
    if (m.age_setting.empty()) continue;
    const auto age = v.duration(m.age_setting);
    if (age.count() == 0) continue;
    if (age < min_age(m.age_setting)) {
      return rmm::failf(
          "{}: at least {} days, or 0 for the definition's", m.age_setting,
          std::chrono::duration_cast<std::chrono::days>(min_age(m.age_setting)).count());
    }
    limits.max_age_ns[stream] = std::chrono::nanoseconds(age).count();
  }
  return limits;
}

int run_apply(const rmm::config::Values& v) {
  auto limits = limit_settings(v);
  if (!limits) return fail_with(limits.error());
  const rmm::broker::ReplicaSettings replicas{.replicas = static_cast<int>(v.integer("replicas")),
                                              .force = v.flag("force")};
  if (auto s = rmm::broker::check_replica_count(replicas.replicas); !s) return fail_with(s.error());
  auto nc = rmm::broker::connect_with_creds(v.str("nats-url"), v.str("nats-creds"),
                                            rmm::nats::tls_options(v));
  if (!nc) return fail_with(nc.error());
  auto outcomes = rmm::broker::apply_streams(*nc, v.str("streams-dir"), v.duration("timeout"),
                                             *limits, replicas);
  natsConnection_Destroy(*nc);
  if (!outcomes) return fail_with(outcomes.error());
  for (const auto& o : *outcomes) fmt::print("{} {}\n", o.name, rmm::broker::to_string(o.action));
  return 0;
}

// Exit 0: every stream is fine; 1: a warning or error (printed); other failures 1 too, with
// the reason on stderr.
int run_stream_usage(const rmm::config::Values& v) {
  auto names = rmm::broker::stream_names(v.str("streams-dir"));
  if (!names) return fail_with(names.error());
  auto nc = rmm::broker::connect_with_creds(v.str("nats-url"), v.str("nats-creds"),
                                            rmm::nats::tls_options(v));
  if (!nc) return fail_with(nc.error());
  auto report = rmm::broker::stream_usage_report(
      *nc, *names, {.warn_fraction = static_cast<double>(v.integer("warn-at")) / 100.0},
      rmm::real_clock().now());
  natsConnection_Destroy(*nc);
  if (!report) return fail_with(report.error());
  std::fputs(report->text.c_str(), stdout);
  return report->healthy ? 0 : 1;
}

int run_agent_credential(const rmm::config::Values& v) {
  if (v.positional().size() > 1) return fail_with({.message = "at most one AGENT_ID"});
  auto id = rmm::broker::load_identity(v.str("home"));
  if (!id) return fail_with(id.error());
  fs::path state = v.str("state-dir");
  if (auto s = rmm::files::ensure_dir(state, 0700); !s) return fail_with(s.error());
  fs::path id_file = state / "agent_id";
  std::string text;
  if (!v.positional().empty()) {
    text = v.positional().front();
  } else if (auto existing = rmm::files::read_all(id_file); existing) {
    text = *existing;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  } else {
    text = rmm::AgentId::generate(rmm::real_clock()).str();
  }
  auto agent = rmm::AgentId::parse(text);
  if (!agent) return fail_with(rmm::with_context(agent.error(), "agent id"));
  if (auto s = rmm::files::write_atomic(id_file, agent->str() + "\n", 0644); !s) {
    return fail_with(s.error());
  }
  auto creds = rmm::broker::mint_agent_creds(*id, *agent);
  if (auto s = rmm::files::write_atomic(state / "agent.creds", creds, 0600); !s) {
    return fail_with(s.error());
  }
  // The command keys the agent must trust, as the enrollment reply would give them.
  auto trusted =
      rmm::broker::load_trusted_command_keys(rmm::broker::command_key_paths(v.str("home")).dir);
  if (!trusted) return fail_with(trusted.error());
  if (auto s = rmm::files::write_atomic(state / "command_keys",
                                        rmm::signing::format_trusted_keys(*trusted), 0600);
      !s) {
    return fail_with(s.error());
  }
  if (!v.str("nats-url").empty()) {
    fs::path services =
        v.str("nats-creds").empty() ? id->services_creds() : fs::path(v.str("nats-creds"));
    auto nc =
        rmm::broker::connect_with_creds(v.str("nats-url"), services, rmm::nats::tls_options(v));
    if (!nc) return fail_with(nc.error());
    auto consumer = rmm::broker::ensure_agent_command_consumer(*nc, *agent);
    natsConnection_Destroy(*nc);
    if (!consumer) return fail_with(consumer.error());
  }
  fmt::print("{}\n", agent->str());
  return 0;
}

struct Command {
  std::string_view name;
  std::string_view usage;
  std::string_view summary;
  std::span<const Setting> settings;
  int (*run)(const rmm::config::Values&);
};

const Command kCommands[] = {
    {"init", "rmm-admin init --home DIR",
     "Creates (or loads) the operator, accounts SYS and RMM, the services and system users, and "
     "the command signing key.",
     kInitSettings, run_init},
    {"render-config",
     "rmm-admin render-config --home DIR --nats-port N [--nats-host H] [--tls-cert F --tls-key F] "
     "[--nats-monitor-port M] [--cluster-nodes H:P,H:P,H:P --node I --tls-ca F] --out FILE",
     "Writes the nats-server config for the identity in DIR (one server, or node I of a "
     "cluster).",
     kRenderSettings, run_render},
    {"apply-streams",
     "rmm-admin apply-streams --nats-url URL --nats-creds FILE [--jetstream-dir D | "
     "--storage-budget SIZE] [--replicas 1|3|5] [--events-max-bytes SIZE ...]",
     "Creates missing streams, updates changed ones, leaves identical ones alone; sets every "
     "stream's byte limit (and the ages named by settings) without deleting stored messages.",
     kApplySettings, run_apply},
    {"stream-usage", "rmm-admin stream-usage --nats-url URL --nats-creds FILE [--warn-at 80]",
     "How full each stream is, how far back it reaches, and what is close to a limit (exit 1).",
     kUsageSettings, run_stream_usage},
    {"agent-credential",
     "rmm-admin agent-credential [AGENT_ID] --home DIR --state-dir DIR [--nats-url URL]",
     "Writes <state-dir>/agent_id, agent.creds and command_keys and prints the agent id; with "
     "--nats-url also creates the agent's command consumer.",
     kAgentSettings, run_agent_credential},
    {"render-leaf-config",
     "rmm-admin render-leaf-config --home DIR --site NAME --nats-port N --jetstream-dir D "
     "--hub-url nats-leaf://HUB:PORT --leaf-creds FILE [--hub-ca F] [--tls-cert F --tls-key F] "
     "--out FILE",
     "Writes the config of a site's leaf node (its own JetStream domain, a remote to the hub).",
     rmm::admin::render_leaf_settings(), rmm::admin::run_render_leaf},
    {"leaf-credential", "rmm-admin leaf-credential --home DIR --site NAME --out FILE",
     "Writes the .creds a site's leaf node connects to the hub with.",
     rmm::admin::leaf_credential_settings(), rmm::admin::run_leaf_credential},
    {"site-source", "rmm-admin site-source --site NAME --nats-url URL --nats-creds FILE [--remove]",
     "Makes the hub's RMM_EVENTS source (or stop sourcing) the site's RMM_SITE_EVENTS.",
     rmm::admin::site_source_settings(), rmm::admin::run_site_source},
    {"create-client", "rmm-admin create-client --name NAME --nats-creds FILE [--pg-url URL]",
     "Publishes ClientCreated and prints the new client id.", rmm::admin::create_client_settings(),
     rmm::admin::run_create_client},
    {"create-site",
     "rmm-admin create-site --client ID --name NAME --nats-creds FILE [--pg-url URL]",
     "Publishes SiteCreated and prints the new site id.", rmm::admin::create_site_settings(),
     rmm::admin::run_create_site},
    {"create-enrollment-code",
     "rmm-admin create-enrollment-code --site ID [--ttl 24h] --nats-creds FILE [--pg-url URL]",
     "Publishes EnrollmentCodeCreated (its hash) and prints the code, once.",
     rmm::admin::create_code_settings(), rmm::admin::run_create_code},
    {"revoke-enrollment-code",
     "rmm-admin revoke-enrollment-code --code-id ID --nats-creds FILE [--pg-url URL]",
     "Publishes EnrollmentCodeRevoked: agents can no longer enroll with that code.",
     rmm::admin::revoke_code_settings(), rmm::admin::run_revoke_code},
    {"command-key-list", "rmm-admin command-key-list --home DIR",
     "Lists the trusted command keys (id, public key, which one signs, which one is next).",
     rmm::admin::command_key_settings(), rmm::admin::run_command_key_list},
    {"command-key-new", "rmm-admin command-key-new --home DIR",
     "Makes the next command key and adds it to the trusted keys (rotation, step 1).",
     rmm::admin::command_key_settings(), rmm::admin::run_command_key_new},
    {"command-key-activate", "rmm-admin command-key-activate --home DIR",
     "The next command key becomes the signing key; the old private key is deleted.",
     rmm::admin::command_key_settings(), rmm::admin::run_command_key_activate},
    {"command-key-retire", "rmm-admin command-key-retire --home DIR --key-id ID",
     "Removes a public key from the trusted command keys (never the active one).",
     rmm::admin::command_key_retire_settings(), rmm::admin::run_command_key_retire},
    {"revoke-agent",
     "rmm-admin revoke-agent --agent ID --home DIR --nats-creds FILE --pg-url URL "
     "[--nats-config FILE --nats-pid-file FILE]",
     "Publishes AgentRevoked and revokes the agent's keys in the account JWT (reload, push).",
     rmm::admin::revoke_agent_settings(), rmm::admin::run_revoke_agent},
    {"push-account",
     "rmm-admin push-account --home DIR --nats-url URLS [--nats-ca FILE] "
     "[--nats-config FILE --nats-pid-file FILE]",
     "Sends the RMM account JWT (every revocation) to every broker node again.",
     rmm::admin::push_account_settings(), rmm::admin::run_push_account},
};

void print_overview() {
  std::string out = "usage: rmm-admin <command> [options]   (rmm-admin <command> --help)\n\n";
  for (const auto& c : kCommands) out += fmt::format("  {:<23} {}\n", c.name, c.summary);
  std::fputs(out.c_str(), stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
    print_overview();
    return argc < 2 ? 2 : 0;
  }
  for (const auto& c : kCommands) {
    if (c.name != argv[1]) continue;
    // The command name takes argv[0]'s place, which load() skips.
    auto values = rmm::config::Values::load(c.settings, argc - 1, argv + 1);
    if (!values) return fail_with(values.error());
    if (values->help_requested()) {
      std::fputs(rmm::config::usage(c.usage, c.summary, c.settings).c_str(), stdout);
      return 0;
    }
    if (c.run != run_agent_credential && !values->positional().empty()) {
      return fail_with(
          {.message = fmt::format("unexpected argument '{}'", values->positional()[0])});
    }
    return c.run(*values);
  }
  std::fprintf(stderr, "rmm-admin: unknown command '%s'\n", argv[1]);
  print_overview();
  return 2;
}
