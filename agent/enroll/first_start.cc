#include "agent/enroll/first_start.h"

#include <system_error>

#include "agent/enroll/enroll_client.h"
#include "agent/enroll/site_settings.h"
#include "common/agent_local.h"
#include "common/files.h"
#include "common/log.h"
#include "common/secure_dir.h"

namespace rmm::agent::enroll {
namespace {

namespace fs = std::filesystem;

void remove_secrets_left_behind() {
  // Best effort: the identity is stored, and the next start tries again.
  if (auto s = forget_enrollment_secrets(); !s) {
    log::warn("agent.enroll_secrets_not_removed",
              {{"key", fmt::format("HKLM\\{}", kSiteSettingsKey)}, {"error", s.error().message}});
  }
}

// The shared enrollment credential's file: EnrollCreds written into the state directory, else
// the one an administrator put there.
Result<fs::path> enroll_creds(const fs::path& state_dir, const SiteSettings& site) {
  const fs::path path = state_dir / "enroll.creds";
  if (!site.enroll_creds.empty()) {
    if (auto s = files::write_atomic(path, site.enroll_creds, 0600); !s) {
      return std::unexpected(with_context(s.error(), "writing the enrollment credential"));
    }
    return path;
  }
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return fail(Error::Code::kInvalidInput,
                fmt::format("no enrollment credential: HKLM\\{} has no EnrollCreds and {} does "
                            "not exist",
                            kSiteSettingsKey, path.string()));
  }
  return path;
}

// The CA to pin: CaPem written where the agent pins it from, else the file CaFile, else none
// (enroll() then takes an earlier enrollment's, or connects in plaintext to loopback only).
Result<fs::path> ca_file(const fs::path& state_dir, const SiteSettings& site) {
  if (!site.ca_pem.empty()) {
    const fs::path path = local::nats_ca_path(state_dir);
    if (auto s = files::write_atomic(path, site.ca_pem, 0644); !s) {
      return std::unexpected(with_context(s.error(), "writing CaPem"));
    }
    return path;
  }
  return fs::path(site.ca_file);
}

}  // namespace

Result<FirstStart> enroll_at_first_start(const FirstStartOptions& options) {
  auto site = read_site_settings();
  std::error_code ec;
  if (fs::exists(options.state_dir / "agent_id", ec)) {
    // An enrolled agent needs none of it: a broken value must not keep it from starting.
    if (site && *site && (!(*site)->enroll_code.empty() || !(*site)->enroll_creds.empty())) {
      remove_secrets_left_behind();
    }
    return FirstStart::kAlreadyEnrolled;
  }
  if (!site) return std::unexpected(site.error());
  if (!*site || (*site)->enroll_code.empty()) return FirstStart::kNoSettings;
  const SiteSettings& s = **site;

  if (auto made = files::secure_state_dir(options.state_dir); !made) {
    return std::unexpected(made.error());
  }
  auto creds = enroll_creds(options.state_dir, s);
  if (!creds) return std::unexpected(creds.error());
  auto ca = ca_file(options.state_dir, s);
  if (!ca) return std::unexpected(ca.error());
  EnrollOptions enroll_options{.server = s.server_url.empty() ? options.nats_url : s.server_url,
                               .code = s.enroll_code,
                               .state_dir = options.state_dir,
                               .enroll_creds = *creds,
                               .ca_file = *ca,
                               .tls_server_name = options.tls_server_name,
                               .timeout = options.timeout};
  log::info("agent.enrolling", {{"server", enroll_options.server},
                                {"settings", fmt::format("HKLM\\{}", kSiteSettingsKey)}});
  auto facts = collect_machine_facts();
  if (!facts) return std::unexpected(with_context(facts.error(), "machine facts"));
  auto outcome = enroll(enroll_options, *facts);
  if (!outcome) {
    return std::unexpected(
        with_context(outcome.error(), fmt::format("enrolling with {}", enroll_options.server)));
  }
  log::info("agent.enrolled", {{"agent_id", outcome->agent.str()}, {"site_id", outcome->site_id}});
  remove_secrets_left_behind();
  // The copy written from EnrollCreds goes too (one an administrator put there is theirs): the
  // agent never needs it again, as on Linux, where the install line keeps it in a scratch
  // directory.
  if (!s.enroll_creds.empty()) {
    std::error_code rm;
    if (fs::remove(*creds, rm); rm) {
      log::warn("agent.enroll_creds_not_removed",
                {{"file", creds->string()}, {"error", rm.message()}});
    }
  }
  return FirstStart::kEnrolled;
}

}  // namespace rmm::agent::enroll
