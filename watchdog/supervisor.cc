#include "watchdog/supervisor.h"

#include <fmt/format.h>
#include <unistd.h>

#include <thread>

#include "common/agent_local.h"
#include "common/files.h"
#include "common/log.h"
#include "common/shutdown.h"
#include "common/update_events.h"

namespace rmm::watchdog {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string describe(const ExitInfo& e) {
  return e.signal != 0 ? fmt::format("killed by signal {}", e.signal)
                       : fmt::format("exited with code {}", e.exit_code);
}

}  // namespace

Supervisor::Supervisor(SupervisorOptions options, ProcessControl& processes, const Clock& clock)
    : options_(std::move(options)),
      processes_(processes),
      clock_(clock),
      history_(options_.crash) {}

Status Supervisor::run() {
  if (options_.agent_argv.empty()) return fail("no agent binary");
  if (auto st = local::write_pid_file(local::watchdog_pid_path(options_.state_dir), ::getpid());
      !st) {
    return st;
  }
  next_start_ = clock_.steady_now();
  log::info("watchdog.started", {{"agent", options_.agent_argv[0]}});
  while (!shutdown::requested()) {
    tick();
    shutdown::wait_for(options_.tick);
  }
  stop_agent();
  std::error_code ec;
  std::filesystem::remove(local::watchdog_pid_path(options_.state_dir), ec);
  log::info("watchdog.stopped");
  return {};
}

void Supervisor::tick() {
  TimePoint now = clock_.steady_now();
  auto lock = local::read_update_lock(options_.state_dir);
  bool hold_stopped = lock && lock->phase == local::UpdatePhase::kStop;
  bool in_start = lock && lock->phase == local::UpdatePhase::kStart;
  if (in_start && lock->cycle != update_cycle_) {
    // A new binary (or the restored one) is about to run: judge it on its own record.
    history_.reset();
    paused_until_.reset();
    next_start_ = now;
  }
  if (in_start) update_cycle_ = lock->cycle;

  if (child_) {
    if (auto exit = processes_.poll_exit(*child_)) {
      child_.reset();
      stop_sent_at_.reset();
      if (hold_stopped) {
        log::info("watchdog.agent_stopped_for_update", {{"status", describe(*exit)}});
      } else if (!shutdown::requested()) {
        on_exit(*exit, now);
      }
    } else if (hold_stopped) {
      if (!stop_sent_at_) {
        processes_.terminate(*child_);
        stop_sent_at_ = now;
      } else if (now - *stop_sent_at_ > options_.stop_grace) {
        processes_.kill(*child_);
      }
    } else {
      check_hang(now);
      check_usage(now);
    }
  }
  if (!child_ && !hold_stopped) {
    if (paused_until_ && now < *paused_until_) return;
    if (paused_until_) {
      paused_until_.reset();
      history_.reset();
      log::info("watchdog.crash_loop_pause_over");
    }
    if (now >= next_start_) start_agent(now);
  }
}

void Supervisor::on_exit(const ExitInfo& exit, TimePoint now) {
  auto ran_for = duration_cast<milliseconds>(now - started_at_);
  auto delay = history_.record_crash(now, ran_for);
  std::string why = killed_for_hang_ ? "hung (liveness file stale), killed" : describe(exit);
  killed_for_hang_ = false;
  log::warn("watchdog.agent_exited",
            {{"status", why}, {"ran_ms", ran_for.count()}, {"restart_in_ms", delay.count()}});
  next_start_ = now + delay;
  auto window_s = static_cast<std::uint32_t>(
      duration_cast<std::chrono::seconds>(options_.crash.loop_window).count());
  std::uint32_t crashes = history_.crashes_in_window(now);
  if (history_.crash_loop(now)) {
    paused_until_ = now + options_.crash_loop_pause;
    log::error("watchdog.crash_loop", {{"restarts", crashes}, {"window_s", window_s}});
    alert(schema::WatchdogAlertKind::CrashLoop,
          fmt::format("{} exits in {} s, last: {}; restarts paused", crashes, window_s, why));
    // Tells an updater waiting for this version's health to roll back now.
    if (auto st = files::write_atomic(local::crash_loop_path(options_.state_dir),
                                      fmt::format("restarts={}\n", crashes));
        !st) {
      log::error("watchdog.marker_failed", {{"error", st.error().message}});
    }
    return;
  }
  alert(schema::WatchdogAlertKind::Restarted, why);
}

void Supervisor::start_agent(TimePoint now) {
  auto pid = processes_.start(options_.agent_argv, options_.agent_log);
  if (!pid) {
    // A missing or broken binary is a crash too: it must not be retried in a tight loop.
    log::error("watchdog.start_failed", {{"error", pid.error().message}});
    started_at_ = now;
    on_exit(ExitInfo{127, 0}, now);
    return;
  }
  child_ = *pid;
  started_at_ = now;
  last_usage_.reset();
  next_usage_ = now + options_.usage_interval;
  log::info("watchdog.agent_started", {{"pid", *pid}});
}

void Supervisor::check_hang(TimePoint now) {
  if (now - started_at_ < options_.liveness_timeout) return;  // give a fresh start its time
  auto age = local::health_age(options_.state_dir);
  if (age && *age < options_.liveness_timeout) return;
  killed_for_hang_ = true;
  alert(schema::WatchdogAlertKind::Hang,
        age ? fmt::format("no liveness signal for {} ms", age->count())
            : std::string("no liveness signal since the start"));
  processes_.kill(*child_);
}

void Supervisor::check_usage(TimePoint now) {
  if (now < next_usage_) return;
  next_usage_ = now + options_.usage_interval;
  if (options_.memory_limit_bytes == 0 && options_.cpu_limit_percent <= 0) return;
  auto usage = processes_.usage(*child_);
  if (!usage) return;
  float cpu = 0;
  if (last_usage_) {
    auto wall = now - last_usage_->first;
    auto busy = usage->cpu_time - last_usage_->second;
    if (wall.count() > 0) {
      cpu = static_cast<float>(
          100.0 * static_cast<double>(busy.count()) /
          static_cast<double>(duration_cast<std::chrono::nanoseconds>(wall).count()));
    }
  }
  last_usage_ = {now, usage->cpu_time};
  auto due = [&](std::optional<TimePoint>& last) {
    if (last && now - *last < options_.alert_repeat) return false;
    last = now;
    return true;
  };
  if (options_.memory_limit_bytes > 0 && usage->rss_bytes > options_.memory_limit_bytes &&
      due(last_memory_alert_)) {
    alert(schema::WatchdogAlertKind::MemoryLimit,
          fmt::format("rss {} bytes over the limit of {}", usage->rss_bytes,
                      options_.memory_limit_bytes),
          usage->rss_bytes, cpu);
  }
  if (options_.cpu_limit_percent > 0 && cpu > options_.cpu_limit_percent && due(last_cpu_alert_)) {
    alert(schema::WatchdogAlertKind::CpuLimit,
          fmt::format("cpu {:.1f} % over the limit of {:.1f} %", cpu, options_.cpu_limit_percent),
          usage->rss_bytes, cpu);
  }
}

void Supervisor::alert(schema::WatchdogAlertKind kind, std::string detail, std::uint64_t rss,
                       float cpu) {
  TimePoint now = clock_.steady_now();
  codec::WatchdogAlertInfo info{
      kind,
      history_.crashes_in_window(now),
      static_cast<std::uint32_t>(
          duration_cast<std::chrono::seconds>(options_.crash.loop_window).count()),
      std::move(detail),
      rss,
      cpu};
  log::warn("watchdog.alert",
            {{"kind", codec::watchdog_alert_name(kind)}, {"detail", info.detail}});
  if (auto st = spool::write(options_.state_dir, info, clock_.now()); !st) {
    log::error("watchdog.spool_failed", {{"error", st.error().message}});
  }
}

void Supervisor::stop_agent() {
  if (!child_) return;
  processes_.terminate(*child_);
  auto deadline = clock_.steady_now() + options_.stop_grace;
  while (clock_.steady_now() < deadline) {
    if (processes_.poll_exit(*child_)) {
      child_.reset();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  processes_.kill(*child_);
  for (int i = 0; i < 250 && !processes_.poll_exit(*child_); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  child_.reset();
}

}  // namespace rmm::watchdog
