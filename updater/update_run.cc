#include "updater/update_run.h"

#include <fmt/format.h>

#include <thread>

#include "common/agent_local.h"
#include "common/files.h"
#include "common/log.h"
#include "common/nats_connection.h"
#include "common/update_events.h"
#include "updater/fetch.h"
#include "updater/install.h"
#include "updater/release/subjects.h"

namespace rmm::updater {
namespace {

using namespace std::chrono_literals;
using schema::UpdateStep;

class Progress {
 public:
  Progress(const UpdateRequest& r, const Clock& clock) : r_(r), clock_(clock) {}

  void report(UpdateStep step, std::string reason = {}, std::string detail = {}) {
    codec::UpdateProgressInfo info{r_.command, r_.from_version, r_.version, step, reason, detail};
    log::info("update.step", {{"step", codec::update_step_name(step)},
                              {"reason", reason},
                              {"detail", detail},
                              {"to", r_.version}});
    if (auto st = spool::write(r_.state_dir, info, clock_.now()); !st) {
      log::error("update.spool_failed", {{"error", st.error().message}});
    }
  }

 private:
  const UpdateRequest& r_;
  const Clock& clock_;
};

Result<AgentId> read_agent_id(const std::filesystem::path& state_dir) {
  auto text = files::read_all(state_dir / "agent_id");
  if (!text) return std::unexpected(text.error());
  std::string_view t = *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.remove_suffix(1);
  return AgentId::parse(t);
}

enum class HealthResult { kHealthy, kTimeout, kCrashLoop };

// Waits for an agent that reports `version` and stays alive for `stable_for`.
HealthResult wait_health(const UpdateRequest& r, const std::string& version,
                         const AgentControl& control) {
  using Steady = std::chrono::steady_clock;
  // Start of the current healthy run; kNotHealthy while there is none. A sentinel rather than an
  // optional: GCC 12 at -O2 wrongly reports the optional's value as maybe-uninitialized.
  constexpr auto kNotHealthy = Steady::time_point::max();
  const auto deadline = Steady::now() + r.health_timeout;
  auto healthy_since = kNotHealthy;
  while (Steady::now() < deadline) {
    if (control.crash_looping()) return HealthResult::kCrashLoop;
    auto h = local::read_health(r.state_dir);
    const bool ok = h && h->version == version && local::process_alive(h->pid);
    const auto now = Steady::now();
    if (!ok) {
      healthy_since = kNotHealthy;
    } else if (healthy_since == kNotHealthy) {
      healthy_since = now;
    } else if (now - healthy_since >= r.stable_for) {
      return HealthResult::kHealthy;
    }
    std::this_thread::sleep_for(100ms);
  }
  return HealthResult::kTimeout;
}

std::string health_reason(HealthResult h) {
  return h == HealthResult::kCrashLoop ? "crash_loop" : "health_timeout";
}

UpdateOutcome roll_back(const UpdateRequest& r, AgentControl& control, Progress& progress,
                        const std::string& reason) {
  log::warn("update.rolling_back", {{"reason", reason}});
  if (auto st = control.stop(r.stop_grace); !st) {
    log::error("update.stop_failed", {{"error", st.error().message}});
  }
  if (auto st = restore_previous(r.agent_binary); !st) {
    progress.report(UpdateStep::Failed, "rollback_failed", st.error().message);
    control.release();
    return UpdateOutcome::kBroken;
  }
  if (auto st = control.start(); !st) {
    progress.report(UpdateStep::Failed, "rollback_failed", st.error().message);
    control.release();
    return UpdateOutcome::kBroken;
  }
  auto back =
      r.from_version.empty() ? HealthResult::kHealthy : wait_health(r, r.from_version, control);
  control.release();
  if (back != HealthResult::kHealthy) {
    progress.report(UpdateStep::Failed, "rollback_unhealthy",
                    fmt::format("{} did not come back healthy either", r.from_version));
    return UpdateOutcome::kBroken;
  }
  progress.report(UpdateStep::RolledBack, reason,
                  fmt::format("{} restored after {} failed", r.from_version, r.version));
  return UpdateOutcome::kRolledBack;
}

}  // namespace

UpdateOutcome run_update(const UpdateRequest& r, std::span<const release::TrustedKey> trusted,
                         AgentControl& control, const Clock& clock) {
  Progress progress(r, clock);
  progress.report(UpdateStep::Started);
  auto agent = read_agent_id(r.state_dir);
  if (!agent) {
    progress.report(UpdateStep::Failed, "no_identity", agent.error().message);
    return UpdateOutcome::kFailed;
  }
  nats::ConnectOptions opts;
  opts.url = r.nats_url;
  opts.creds_file = (r.state_dir / "agent.creds").string();
  opts.tls_ca_file = r.nats_tls.ca_file;
  opts.tls_server_name = r.nats_tls.server_name;
  opts.name = "rmm-updater " + agent->str();
  opts.inbox_prefix = "_INBOX." + agent->str();
  opts.max_reconnect = 10;
  auto conn = nats::Connection::connect(opts);
  if (!conn) {
    progress.report(UpdateStep::Failed, "fetch_failed", conn.error().message);
    return UpdateOutcome::kFailed;
  }
  ReleaseSource source(**conn, r.fetch_timeout, r.nats_js_domain);
  const std::string prefix = release::release_prefix(r.version, r.platform, r.arch);
  auto signed_manifest = source.manifest(prefix);
  if (!signed_manifest) {
    const auto& p = signed_manifest.error();
    progress.report(p.refused ? UpdateStep::Refused : UpdateStep::Failed, p.refusal.reason,
                    p.refusal.detail);
    return p.refused ? UpdateOutcome::kRefused : UpdateOutcome::kFailed;
  }
  release::Expectation expect{r.version,      r.platform,        r.arch,
                              r.from_version, r.allow_downgrade, r.sha256};
  auto manifest = release::check_manifest(trusted, *signed_manifest, expect);
  if (!manifest) {
    progress.report(UpdateStep::Refused, manifest.error().reason, manifest.error().detail);
    return UpdateOutcome::kRefused;
  }
  auto artifact = source.artifact(prefix, *manifest);
  conn->reset();
  if (!artifact) {
    const auto& p = artifact.error();
    progress.report(p.refused ? UpdateStep::Refused : UpdateStep::Failed, p.refusal.reason,
                    p.refusal.detail);
    return p.refused ? UpdateOutcome::kRefused : UpdateOutcome::kFailed;
  }
  progress.report(UpdateStep::Downloaded, {}, fmt::format("{} bytes", artifact->size()));
  progress.report(UpdateStep::Verified, {}, "sha256 " + manifest->sha256);

  if (auto st = stage(r.agent_binary, *artifact); !st) {
    progress.report(UpdateStep::Failed, "install_failed", st.error().message);
    return UpdateOutcome::kFailed;
  }
  if (auto st = control.acquire(); !st) {
    progress.report(UpdateStep::Failed, "no_supervisor", st.error().message);
    return UpdateOutcome::kFailed;
  }
  if (auto st = control.stop(r.stop_grace); !st) {
    control.release();
    progress.report(UpdateStep::Failed, "stop_failed", st.error().message);
    return UpdateOutcome::kFailed;
  }
  if (auto st = swap_in(r.agent_binary); !st) {
    (void)control.start();  // the old binary is still in place: let it run again
    control.release();
    progress.report(UpdateStep::Failed, "install_failed", st.error().message);
    return UpdateOutcome::kFailed;
  }
  progress.report(UpdateStep::Installed);
  if (auto st = control.start(); !st) return roll_back(r, control, progress, "start_failed");
  auto health = wait_health(r, r.version, control);
  if (health != HealthResult::kHealthy) {
    return roll_back(r, control, progress, health_reason(health));
  }
  control.release();
  progress.report(UpdateStep::Healthy);
  return UpdateOutcome::kHealthy;
}

}  // namespace rmm::updater
