#include "agent/commands/command_runner.h"

#include <fmt/format.h>

#include <algorithm>

#include "agent/platform/process.h"
#include "common/command_signing.h"
#include "common/log.h"

namespace rmm::agent {
namespace {

const char* const kInterruptedReason = "the agent stopped while the command was running";

Result<codec::CommandInfo> decode(std::span<const std::uint8_t> bytes) {
  std::vector<std::uint8_t> storage;
  auto env = codec::verify_command(codec::aligned_for_read(bytes, storage));
  if (!env) return std::unexpected(env.error());
  return codec::read_command(**env);
}

}  // namespace

CommandRunner::CommandRunner(Outbox& outbox, nats::Connection* conn, const AgentId& agent,
                             CommandRunnerOptions options, CommandHooks hooks, const Clock& clock)
    : outbox_(outbox),
      conn_(conn),
      agent_(agent),
      options_(std::move(options)),
      hooks_(std::move(hooks)),
      clock_(clock),
      lifecycle_(outbox, agent, clock),
      keys_(options_.command_keys) {}

Result<std::unique_ptr<CommandRunner>> CommandRunner::create(Outbox& outbox, nats::Connection* conn,
                                                             const AgentId& agent,
                                                             CommandRunnerOptions options,
                                                             CommandHooks hooks,
                                                             const Clock& clock) {
  if (options.state_dir.empty()) return fail("command runner: no state directory");
  if (options.concurrency < 1) return fail("command runner: concurrency must be at least 1");
  options.limits.update_hook_installed = static_cast<bool>(hooks.update_agent);
  // A command id must be remembered for as long as the command can still arrive: a replay of a
  // finished command then finds its id, one past its expiry is expired.
  if (options.store.retention < options.limits.max_lifetime + std::chrono::hours(24)) {
    return fail("command runner: the journal's retention must exceed the command lifetime");
  }
  std::unique_ptr<CommandRunner> r(
      new CommandRunner(outbox, conn, agent, std::move(options), std::move(hooks), clock));
  auto store = CommandStore::open(r->options_.state_dir / "commands", clock, r->options_.store);
  if (!store) return std::unexpected(store.error());
  r->store_ = std::move(*store);
  return r;
}

CommandRunner::~CommandRunner() {
  stop();
}

Status CommandRunner::start() {
  if (!workers_.empty()) return fail("command runner already started");
  if (auto s = recover(); !s) return s;
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  for (int i = 0; i < options_.concurrency; ++i) workers_.emplace_back([this] { worker(); });
  if (conn_ != nullptr) {
    fetcher_ =
        std::make_unique<CommandFetcher>(*conn_, agent_, options_.fetch,
                                         [this](std::span<const std::uint8_t> bytes,
                                                const Delivery& d) { return accept(bytes, d); });
    if (auto s = fetcher_->start(); !s) {
      stop();
      return s;
    }
  }
  log::info("commands.started",
            {{"concurrency", options_.concurrency}, {"queued", stats().queued}});
  return {};
}

void CommandRunner::stop() {
  if (fetcher_) {
    fetcher_->stop();
    fetcher_.reset();
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [id, entry] : running_) {
      entry.first->stop = static_cast<int>(StopRequest::kShutdown);
    }
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  std::lock_guard lock(mutex_);
  queue_.clear();  // still recorded as queued: they run after the next start
}

Status CommandRunner::recover() {
  auto records = store_->unfinished();
  if (!records) return std::unexpected(records.error());
  for (auto& rec : *records) {
    auto info = decode(rec.envelope);
    if (rec.state == CommandState::kRunning) {
      bool rebooted = info && std::holds_alternative<codec::RebootSpec>(info->action) &&
                      !rec.boot_id.empty() && !options_.boot_id.empty() &&
                      rec.boot_id != options_.boot_id;
      if (rebooted) {
        finish(rec.id, lifecycle_.completed({.command = rec.id}));
      } else {
        finish(rec.id, lifecycle_.interrupted(rec.id, settle_leftovers(rec)));
      }
      continue;
    }
    if (!info) {
      finish(rec.id, lifecycle_.rejected(rec.id, info.error().message));
      continue;
    }
    // Checked again: the machine may have changed (an interpreter removed) while it waited.
    auto prepared = check_command(std::move(*info), agent_, options_.limits);
    if (!prepared) {
      finish(rec.id, lifecycle_.rejected(rec.id, prepared.error().message));
      continue;
    }
    std::lock_guard lock(mutex_);
    queue_.push_back(Job{.command = std::move(*prepared)});
  }
  return {};
}

// Kills what is left of an interrupted program (its process group, recorded before it ran) and
// returns the reason to report: the command must not finish after it was reported interrupted.
std::string CommandRunner::settle_leftovers(const CommandRecord& rec) {
  std::string reason = kInterruptedReason;
  if (!rec.process) return reason;  // a built-in action, or a record from an older build
  // After a reboot nothing of it can be left, and its start time means nothing in this boot.
  if (!rec.boot_id.empty() && !options_.boot_id.empty() && rec.boot_id != options_.boot_id) {
    return reason;
  }
  auto killed = platform::kill_leftover_group(*rec.process, options_.leftover_wait);
  if (!killed) {
    log::error("command.leftover_unknown",
               {{"command_id", rec.id.str()}, {"error", killed.error().message}});
    return fmt::format("{}; whether its processes still run is unknown: {}", reason,
                       killed.error().message);
  }
  if (killed->remaining > 0) {
    log::error("command.leftover_unkillable",
               {{"command_id", rec.id.str()}, {"remaining", killed->remaining}});
    return fmt::format("{}; {} of its processes survived SIGKILL", reason, killed->remaining);
  }
  if (killed->killed > 0) {
    log::info("command.leftover_killed",
              {{"command_id", rec.id.str()}, {"processes", killed->killed}});
    return fmt::format("{}; {} of its processes were still running and were killed", reason,
                       killed->killed);
  }
  return reason;
}

Disposition CommandRunner::accept(std::span<const std::uint8_t> bytes, const Delivery& delivery) {
  auto opened = codec::open_command(bytes, keys_.get(), agent_);
  if (opened.refusal == codec::CommandRefusal::kUnreadable) {
    log::warn("command.unreadable",
              {{"stream_seq", delivery.stream_seq.value}, {"error", opened.reason}});
    std::lock_guard lock(mutex_);
    stats_.unreadable++;
    return Disposition::kTerm;
  }
  const CommandId id = opened.id;
  auto known = store_->find(id);
  if (!known) {
    log::error("command.store_failed",
               {{"command_id", id.str()}, {"error", known.error().message}});
    return Disposition::kNak;
  }
  if (opened.refusal) return refuse(opened, known->has_value(), delivery);
  if (*known) {
    log::info("command.duplicate",
              {{"command_id", id.str()}, {"delivery", delivery.delivery_count}});
    std::lock_guard lock(mutex_);
    stats_.duplicates++;
    return Disposition::kAck;
  }

  std::span<const std::uint8_t> data = opened.envelope;
  auto env = codec::verify_command(data);  // verified by open_command: cannot fail
  if (!env) return Disposition::kTerm;
  auto info = codec::read_command(**env);
  codec::CommandReceivedInfo received{
      .command = id,
      .kind = std::string(info ? codec::command_kind(info->action)
                               : codec::command_kind((*env)->payload_type())),
      .issuer = (*env)->issuer() != nullptr ? (*env)->issuer()->str() : std::string(),
      .stream_seq = delivery.stream_seq.value};
  if (auto s = lifecycle_.received(received); !s) {
    log::error("command.receive_failed", {{"command_id", id.str()}, {"error", s.error().message}});
    return Disposition::kNak;
  }
  {
    std::lock_guard lock(mutex_);
    stats_.accepted++;
  }
  log::info("command.received", {{"command_id", id.str()}, {"kind", received.kind}});
  // From here every outcome is recorded before the ack; a failed record means a redelivery.
  auto done = [&](Status event) {
    if (!event) return Disposition::kNak;
    if (auto s = store_->record_finished(id); !s) return Disposition::kNak;
    std::lock_guard lock(mutex_);
    stats_.finished++;
    return Disposition::kAck;
  };
  if (!info) return done(reject(id, info.error().message));
  auto prepared = check_command(std::move(*info), agent_, options_.limits);
  if (!prepared) return done(reject(id, prepared.error().message));
  const auto& cmd = prepared->info;
  if (cmd.expires_at < clock_.now()) {
    return done(lifecycle_.expired(id, cmd.expires_at));
  }
  if (const auto* cancel = std::get_if<codec::CancelSpec>(&cmd.action)) {
    return done(handle_cancel(id, cancel->target));
  }
  if (const auto* trust = std::get_if<codec::TrustCommandKeysSpec>(&cmd.action)) {
    return done(handle_trust(id, *trust));
  }
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= options_.max_queue) {
      return done(reject(id, fmt::format("queue full ({} commands waiting)", queue_.size())));
    }
  }
  auto arrival = store_->record_queued(id, data);
  if (!arrival) {
    log::error("command.store_failed",
               {{"command_id", id.str()}, {"error", arrival.error().message}});
    return Disposition::kNak;
  }
  enqueue(Job{.command = std::move(*prepared)});
  return Disposition::kAck;
}

// Not a command this agent may run: it is never journaled (a forged copy must not make the real
// command with that id a "duplicate"), reported unless the id is already known, and terminated.
Disposition CommandRunner::refuse(const codec::OpenedCommand& opened, bool known,
                                  const Delivery& delivery) {
  log::warn("command.refused", {{"command_id", opened.id.str()},
                                {"reason", opened.reason},
                                {"key_id", opened.key_id},
                                {"stream_seq", delivery.stream_seq.value}});
  {
    std::lock_guard lock(mutex_);
    stats_.refused++;
  }
  if (known) return Disposition::kTerm;
  if (auto s = lifecycle_.rejected(opened.id, opened.reason); !s) {
    log::error("command.event_failed",
               {{"command_id", opened.id.str()}, {"error", s.error().message}});
    return Disposition::kNak;
  }
  return Disposition::kTerm;
}

// The rotation step of docs/command-signing.md: the set is written durably before it is used,
// so a restart never falls back to the old set after the command completed.
Status CommandRunner::handle_trust(const CommandId& id, const codec::TrustCommandKeysSpec& spec) {
  auto keys = parse_command_key_list(spec.public_keys);
  if (!keys) return reject(id, keys.error().message);
  if (auto s = save_command_keys(options_.state_dir, *keys); !s) {
    log::error("command.keys_write_failed",
               {{"command_id", id.str()}, {"error", s.error().message}});
    return s;
  }
  std::string ids;
  for (const auto& k : *keys) ids += (ids.empty() ? "" : ",") + k.key_id;
  keys_.set(std::move(*keys));
  log::info("command.keys_replaced", {{"command_id", id.str()}, {"key_ids", ids}});
  return lifecycle_.completed({.command = id});
}

Status CommandRunner::reject(const CommandId& id, std::string_view reason) {
  log::info("command.rejected", {{"command_id", id.str()}, {"reason", reason}});
  return lifecycle_.rejected(id, reason);
}

bool CommandRunner::enqueue(Job job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !workers_.empty()) return false;
    queue_.push_back(std::move(job));
  }
  cv_.notify_all();  // a reboot action also waits on cv_: notify_one could wake only it
  return true;
}

Status CommandRunner::handle_cancel(const CommandId& cancel_id, const CommandId& target) {
  std::optional<Job> removed;
  std::string reason;
  {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(queue_.begin(), queue_.end(),
                           [&](const Job& j) { return j.command.info.id == target; });
    if (it != queue_.end()) {
      removed = std::move(*it);
      queue_.erase(it);
    } else if (auto r = running_.find(target); r != running_.end()) {
      auto& [control, is_process] = r->second;
      if (is_process) {
        std::lock_guard control_lock(control->mutex);
        control->cancelled_by = cancel_id;
        control->stop = static_cast<int>(StopRequest::kCancel);
      } else {
        reason =
            fmt::format("command {} is a built-in action and cannot be cancelled", target.str());
      }
    } else {
      reason = fmt::format("nothing to cancel: command {} is not queued or running", target.str());
    }
  }
  if (!reason.empty()) return reject(cancel_id, reason);
  if (removed) {
    finish(target, lifecycle_.cancelled({.command = target,
                                         .cancel_command = cancel_id,
                                         .was_running = false,
                                         .duration_ms = 0}));
  }
  log::info("command.cancel", {{"command_id", cancel_id.str()}, {"target", target.str()}});
  return lifecycle_.completed({.command = cancel_id});
}

void CommandRunner::finish(const CommandId& id, Status event) {
  if (!event) {
    // The record stays unfinished: the next start reports the command interrupted.
    log::error("command.event_failed",
               {{"command_id", id.str()}, {"error", event.error().message}});
    return;
  }
  if (auto s = store_->mark_finished(id); !s) {
    log::error("command.store_failed", {{"command_id", id.str()}, {"error", s.error().message}});
  }
  std::lock_guard lock(mutex_);
  stats_.finished++;
}

void CommandRunner::worker() {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      job.ticket = next_ticket_++;
      running_[job.command.info.id] = {job.control, runs_program(job.command.info.action)};
    }
    execute(job);
    std::lock_guard lock(mutex_);
    running_.erase(job.command.info.id);
  }
}

CommandRunner::StartTurn::StartTurn(CommandRunner& runner, std::uint64_t ticket) : runner_(runner) {
  std::unique_lock lock(runner_.mutex_);
  runner_.cv_.wait(lock, [&] { return runner_.turn_ == ticket || runner_.stopping_; });
}

void CommandRunner::StartTurn::release() {
  if (!held_) return;
  held_ = false;
  {
    std::lock_guard lock(runner_.mutex_);
    runner_.turn_++;
  }
  runner_.cv_.notify_all();
}

CommandRunnerStats CommandRunner::stats() const {
  std::lock_guard lock(mutex_);
  CommandRunnerStats s = stats_;
  s.queued = queue_.size();
  s.running = running_.size();
  return s;
}

}  // namespace rmm::agent
