// CommandRunner: running one queued command (a program or a built-in action).
#include <fmt/format.h>

#include <optional>
#include <thread>
#include <utility>

#include "agent/collectors/inventory.h"
#include "agent/commands/applied_config.h"
#include "agent/commands/command_runner.h"
#include "agent/commands/registry_action.h"
#include "agent/platform/collectors.h"
#include "agent/platform/process.h"
#include "common/files.h"
#include "common/log.h"

namespace rmm::agent {
namespace {

std::string format_processes(const codec::MetricsInfo& m) {
  std::string out =
      fmt::format("# {} processes; top by CPU and by memory over 1 s\n", m.process_count);
  out += "pid\tuser\tcpu_percent\trss_bytes\tname\tcmdline\n";
  if (m.top_processes) {
    for (const auto& p : *m.top_processes) {
      out += fmt::format("{}\t{}\t{:.1f}\t{}\t{}\t{}\n", p.pid, p.user, p.cpu_percent, p.rss_bytes,
                         p.name, p.cmdline);
    }
  }
  return out;
}

Result<std::string> default_collect_processes() {
  platform::SamplerState state;
  codec::MetricsInfo first;
  // CPU % is a difference between two scans.
  if (auto s = platform::collect_processes(state, first); !s) return std::unexpected(s.error());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  codec::MetricsInfo second;
  if (auto s = platform::collect_processes(state, second); !s) return std::unexpected(s.error());
  return format_processes(second);
}

// The language and text of a script command; nullopt for anything else.
std::optional<std::pair<platform::ScriptLanguage, std::string_view>> script_of(
    const codec::CommandAction& action) {
  using platform::ScriptLanguage;
  if (const auto* a = std::get_if<codec::ShellSpec>(&action)) {
    return std::pair{ScriptLanguage::kShell, std::string_view(a->script)};
  }
  if (const auto* a = std::get_if<codec::PowerShellSpec>(&action)) {
    return std::pair{ScriptLanguage::kPowerShell, std::string_view(a->script)};
  }
  if (const auto* a = std::get_if<codec::CmdSpec>(&action)) {
    return std::pair{ScriptLanguage::kCmd, std::string_view(a->script)};
  }
  return std::nullopt;
}

std::uint64_t ms(std::chrono::milliseconds d) {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, d.count()));
}

}  // namespace

void CommandRunner::execute(Job& job) {
  StartTurn turn(*this, job.ticket);
  const auto& cmd = job.command.info;
  const int stop = job.control->stop.load();
  if (stop == static_cast<int>(StopRequest::kShutdown)) return;  // stays queued in the store
  if (stop == static_cast<int>(StopRequest::kCancel)) {
    std::lock_guard lock(job.control->mutex);
    finish(cmd.id, lifecycle_.cancelled({.command = cmd.id,
                                         .cancel_command = job.control->cancelled_by,
                                         .was_running = false,
                                         .duration_ms = 0}));
    return;
  }
  if (cmd.expires_at != 0 && cmd.expires_at < clock_.now()) {
    log::info("command.expired", {{"command_id", cmd.id.str()}});
    finish(cmd.id, lifecycle_.expired(cmd.id, cmd.expires_at));
    return;
  }
  if (runs_program(cmd.action)) {
    run_program(job, turn);  // recorded as running once its process group exists
    return;
  }
  // Recorded before anything runs: after a crash from here on, it is reported, never re-run.
  if (auto s = store_->mark_running(cmd.id, options_.boot_id); !s) {
    log::error("command.store_failed",
               {{"command_id", cmd.id.str()}, {"error", s.error().message}});
    return;  // still queued in the store: it runs after the next start
  }
  run_action(job, turn);
}

Result<std::string> CommandRunner::write_script(const CommandId& id,
                                                const platform::ScriptFile& script) {
  auto dir = options_.state_dir / "command-scripts";
  if (auto s = files::ensure_dir(dir, 0700); !s) return std::unexpected(s.error());
  auto path = dir / (id.str() + script.suffix);
  if (auto s = files::write_atomic(path, script.text, 0600); !s) return std::unexpected(s.error());
  return path.string();
}

void CommandRunner::run_program(Job& job, StartTurn& turn) {
  const auto& p = job.command;
  const auto& id = p.info.id;
  platform::SpawnSpec spawn{.argv = {}, .env = p.env, .working_dir = p.working_dir};
  std::string script_path;
  if (auto script = script_of(p.info.action)) {
    const auto language = script->first;
    auto path = write_script(id, platform::script_file(language, p.interpreter, script->second));
    if (!path) {
      finish(id, lifecycle_.failed(id, "writing the script: " + path.error().message));
      return;
    }
    script_path = *path;
    auto argv = platform::script_argv(language, p.interpreter, script_path);
    if (!argv) {
      finish(id, lifecycle_.failed(id, argv.error().message));
      std::error_code ec;
      std::filesystem::remove(script_path, ec);
      return;
    }
    spawn.argv = std::move(*argv);
  } else {
    const auto& exec = std::get<codec::ExecSpec>(p.info.action);
    auto program = platform::find_program(exec.argv[0], path_of(p.env));
    if (!program) {
      finish(id, lifecycle_.failed(id, program.error().message));
      return;
    }
    spawn.argv = exec.argv;
    spawn.argv[0] = *program;
  }
  auto remove_script = [&] {
    if (script_path.empty()) return;
    std::error_code ec;
    std::filesystem::remove(script_path, ec);
  };
  // Held: the process group exists but nothing runs until it is recorded with the running
  // state. A crash before the record leaves the command queued (it runs after the restart) and
  // the held process exits without running anything; after it, the restart kills the group.
  spawn.held = true;
  auto child = platform::ChildProcess::spawn(spawn);
  if (!child) {
    log::info("command.failed", {{"command_id", id.str()}, {"reason", child.error().message}});
    finish(id, lifecycle_.failed(id, child.error().message));
    remove_script();
    return;
  }
  auto group = (*child)->group_record();
  if (!group) {
    // Without a record a crash could leave it running unseen: it does not run at all.
    finish(id, lifecycle_.failed(id, "recording the process group: " + group.error().message));
    child->reset();
    remove_script();
    return;
  }
  if (auto s = store_->mark_running(id, options_.boot_id, *group); !s) {
    log::error("command.store_failed", {{"command_id", id.str()}, {"error", s.error().message}});
    child->reset();
    remove_script();
    return;  // still queued in the store: it runs after the next start
  }
  if (auto s = (*child)->release(); !s) {
    log::info("command.failed", {{"command_id", id.str()}, {"reason", s.error().message}});
    finish(id, lifecycle_.failed(id, s.error().message));
    child->reset();
    remove_script();
    return;
  }
  log::info("command.started", {{"command_id", id.str()}, {"pid", (*child)->pid()}});
  if (auto s = lifecycle_.started(id, (*child)->pid()); !s) {
    log::error("command.event_failed", {{"command_id", id.str()}, {"error", s.error().message}});
  }
  turn.release();
  RunResult r = run_process(**child, id, p.timeout, p.output_cap, options_.output, *job.control,
                            lifecycle_, clock_);
  {
    // Not cancellable any more: a cancel that arrives once the end is reported must be told
    // there is nothing to cancel, not be "completed" against a finished command.
    std::lock_guard lock(mutex_);
    running_.erase(id);
  }
  child->reset();
  remove_script();
  log::info("command.finished", {{"command_id", id.str()},
                                 {"end", static_cast<int>(r.end)},
                                 {"exit_code", r.exit.exit_code},
                                 {"duration_ms", r.duration.count()}});
  switch (r.end) {
    case RunEnd::kCompleted:
      finish(id, lifecycle_.completed({.command = id,
                                       .exit_code = r.exit.exit_code,
                                       .term_signal = r.exit.term_signal,
                                       .duration_ms = ms(r.duration),
                                       .stdout_bytes = r.bytes[0],
                                       .stderr_bytes = r.bytes[1],
                                       .stdout_truncated = r.truncated[0],
                                       .stderr_truncated = r.truncated[1]}));
      break;
    case RunEnd::kTimedOut:
      finish(id, lifecycle_.timed_out({.command = id,
                                       .timeout_ms = ms(p.timeout),
                                       .duration_ms = ms(r.duration),
                                       .killed = r.killed,
                                       .stdout_truncated = r.truncated[0],
                                       .stderr_truncated = r.truncated[1]}));
      break;
    case RunEnd::kCancelled: {
      CommandId by;
      {
        std::lock_guard lock(job.control->mutex);
        by = job.control->cancelled_by;
      }
      finish(id, lifecycle_.cancelled({.command = id,
                                       .cancel_command = by,
                                       .was_running = true,
                                       .duration_ms = ms(r.duration)}));
      break;
    }
    case RunEnd::kInterrupted:
      finish(id, lifecycle_.interrupted(id, "the agent stopped while the command was running"));
      break;
  }
}

void CommandRunner::run_action(Job& job, StartTurn& turn) {
  const auto& p = job.command;
  const auto& id = p.info.id;
  if (auto s = lifecycle_.started(id, 0); !s) {
    log::error("command.event_failed", {{"command_id", id.str()}, {"error", s.error().message}});
  }
  turn.release();
  const auto start = clock_.steady_now();
  std::string out;
  Status outcome;
  if (std::holds_alternative<codec::RefreshInventorySpec>(p.info.action)) {
    outcome = hooks_.refresh_inventory ? hooks_.refresh_inventory() : default_refresh_inventory();
    if (outcome) out = "inventory sent\n";
  } else if (std::holds_alternative<codec::CollectProcessesSpec>(p.info.action)) {
    auto text = hooks_.collect_processes ? hooks_.collect_processes() : default_collect_processes();
    if (text) {
      out = std::move(*text);
    } else {
      outcome = std::unexpected(text.error());
    }
  } else if (const auto* apply = std::get_if<codec::ApplyConfigSpec>(&p.info.action)) {
    if (hooks_.apply_config) outcome = hooks_.apply_config(apply->settings);
    if (outcome) {
      auto merged = merge_applied_config(options_.state_dir, apply->settings);
      if (merged) {
        out = fmt::format("{} settings applied{}\n", apply->settings.size(),
                          hooks_.apply_config ? "" : " (effective at the next start)");
      } else {
        outcome = std::unexpected(merged.error());
      }
    }
  } else if (std::holds_alternative<codec::RebootSpec>(p.info.action)) {
    outcome = hooks_.reboot ? hooks_.reboot() : platform::reboot_machine();
    if (outcome) {
      // Left running on purpose: the next start, in a new boot, reports it completed. If the
      // agent is stopped first (the reboot itself), the record stays as it is.
      log::info("command.reboot_requested", {{"command_id", id.str()}});
      std::unique_lock lock(mutex_);
      bool stopped = cv_.wait_for(lock, options_.reboot_wait, [&] { return stopping_; });
      if (stopped) return;
      lock.unlock();
      outcome = fail(fmt::format("the machine did not reboot within {} s",
                                 options_.reboot_wait.count() / 1000));
    }
  } else if (const auto* update = std::get_if<codec::UpdateAgentSpec>(&p.info.action)) {
    outcome =
        hooks_.update_agent ? hooks_.update_agent(id, *update) : fail("updater not installed");
    if (outcome) out = "update handed to the updater\n";
  } else if (const auto* kill = std::get_if<codec::KillProcessSpec>(&p.info.action)) {
    auto text = platform::kill_process(kill->pid, kill->name);
    if (text) {
      out = std::move(*text);
    } else {
      outcome = std::unexpected(text.error());
    }
  } else if (const auto* registry = std::get_if<codec::RegistrySpec>(&p.info.action)) {
    auto json = run_registry_action(*registry, p.output_cap);
    if (json) {
      out = std::move(*json);
    } else {
      outcome = std::unexpected(json.error());
    }
  }
  std::string err = outcome ? std::string() : outcome.error().message + "\n";
  RunResult r;
  send_output(id, out, err, p.output_cap, options_.output.chunk_bytes, lifecycle_, r);
  auto duration =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steady_now() - start);
  finish(id, lifecycle_.completed({.command = id,
                                   .exit_code = outcome ? 0 : 1,
                                   .term_signal = 0,
                                   .duration_ms = ms(duration),
                                   .stdout_bytes = r.bytes[0],
                                   .stderr_bytes = r.bytes[1],
                                   .stdout_truncated = r.truncated[0],
                                   .stderr_truncated = r.truncated[1]}));
}

Status CommandRunner::default_refresh_inventory() {
  auto inventory = collectors::collect_inventory();
  if (!inventory) return std::unexpected(inventory.error());
  auto seq = outbox_.append(EventClass::kDurable, schema::Payload::Inventory, [&](AgentSeq s) {
    return codec::build_inventory(
        codec::AgentEventHeader{EventId::generate(clock_), agent_, s, clock_.now()}, *inventory);
  });
  if (!seq) return std::unexpected(seq.error());
  return {};
}

}  // namespace rmm::agent
