#include "agent/enroll/enroll_command.h"

#include <array>
#include <cstdio>
#include <limits>

#include "agent/enroll/enroll_client.h"
#include "common/config.h"
#include "common/install_paths.h"
#include "common/log.h"
#include "common/nats_tls_settings.h"

namespace rmm::agent::enroll {
namespace {

using config::Setting;
using config::Type;

constexpr std::int64_t kAny = std::numeric_limits<std::int64_t>::max();

const std::array<Setting, 7> kSettings = {{
    {"server", Type::kString, "", "NATS URL of the GuruRMM broker", -kAny, kAny, true},
    {"code", Type::kString, "", "the site's enrollment code", -kAny, kAny, true},
    {"state-dir", Type::kString, rmm::install_paths::agent_state_dir(),
     "agent state: gets agent_id and agent.creds"},
    {"enroll-creds", Type::kString, "",
     "the shared enrollment credential (default <state-dir>/enroll.creds)"},
    {"timeout", Type::kDuration, "30s", "how long to wait for the answer", 1'000, 600'000},
    {"ca-file", Type::kString, "",
     "CA of the server to pin (TLS required); copied to <state-dir>/ca.pem for the agent. "
     "Default: <state-dir>/ca.pem of an earlier enrollment; without one, plaintext to a "
     "loopback server only"},
    nats::kNatsTlsNameSetting,
}};

}  // namespace

int run_enroll_command(int argc, const char* const* argv) {
  auto cfg = config::Values::load(kSettings, argc, argv);
  if (!cfg) {
    std::fprintf(stderr, "rmm-agent enroll: %s\n", cfg.error().message.c_str());
    return 2;
  }
  if (cfg->help_requested()) {
    std::fputs(config::usage("rmm-agent enroll --server URL --code CODE [options]",
                             "Enrolls this machine with a site enrollment code: makes the agent's "
                             "key pair, gets its credential, prints its agent id.",
                             kSettings)
                   .c_str(),
               stdout);
    return 0;
  }
  if (!cfg->positional().empty()) {
    std::fprintf(stderr, "rmm-agent enroll: unexpected argument '%s'\n",
                 cfg->positional()[0].c_str());
    return 2;
  }
  EnrollOptions options{.server = cfg->str("server"),
                        .code = cfg->str("code"),
                        .state_dir = cfg->str("state-dir"),
                        .enroll_creds = cfg->str("enroll-creds"),
                        .ca_file = cfg->str("ca-file"),
                        .tls_server_name = cfg->str("nats-tls-name"),
                        .timeout = cfg->duration("timeout")};
  if (options.enroll_creds.empty()) options.enroll_creds = options.state_dir / "enroll.creds";
  auto facts = collect_machine_facts();
  if (!facts) {
    std::fprintf(stderr, "rmm-agent enroll: %s\n", facts.error().message.c_str());
    return 1;
  }
  auto outcome = enroll(options, *facts);
  if (!outcome) {
    std::fprintf(stderr, "rmm-agent enroll: %s\n", outcome.error().message.c_str());
    return 1;
  }
  log::info("agent.enrolled", {{"agent_id", outcome->agent.str()},
                               {"site_id", outcome->site_id},
                               {"reenrolled", outcome->reenrolled ? "true" : "false"}});
  std::printf("%s\n", outcome->agent.str().c_str());
  return 0;
}

}  // namespace rmm::agent::enroll
