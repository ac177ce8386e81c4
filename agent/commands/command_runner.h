// Runs this agent's remote commands (issue 3 §2): fetches them from its RMM_COMMANDS consumer
// (CommandFetcher), records each in the CommandStore before acking it, and runs them in order of
// arrival with at most `concurrency` at a time; every step is a lifecycle event in the outbox.
//
// Per delivered message, on the fetcher's thread:
//   open (FlatBuffers, signature by a trusted command key, for this agent: codec::open_command)
//   -> anything else is terminated (+TERM) and never journaled: no command id, nothing but a log
//   line; with an id, a CommandRejected event with the reason (unless the id is already known:
//   a forged copy never touches the real command's outcome) ->
//   known id? ack, nothing else (a redelivery) -> CommandReceived (synced) -> checks (rejected),
//   expiry (expired), cancel and trust_command_keys (handled at once) -> recorded as queued
//   (synced) -> ack -> queue.
// Every message is acked or terminated, so nothing this agent cannot use stays pending on its
// consumer (a message someone else put on rmm.cmd.<id> must never block the real commands).
// Per queued command, on a worker thread:
//   expired by now? -> recorded as running (synced) -> started -> output... -> one terminal event
//   (completed, failed, timeout, cancelled, interrupted) -> recorded as finished.
// start() first settles what an earlier run left: commands recorded as running are reported
// interrupted once nothing of them runs any more (what is left of a program's recorded process
// group in the same boot is killed first; a reboot command found running in a new boot is
// reported completed), commands recorded as queued are queued again.
// A program is started held (created, not yet run), its process group recorded with the running
// state (synced), and only then released: a crash at any point leaves either a queued record
// and nothing that ran, or a running record that names the group.
//
// Built-in actions run through the same queue and end `completed`, with exit code 0, or 1 and the
// error on stderr: refresh_inventory, collect_processes, apply_config, reboot, update_agent.
// `cancel` and `trust_command_keys` are handled on arrival, ahead of the queue.
//
// Concurrency: start()/stop() from the owner thread; accept() on the fetcher thread (or a test's);
// `concurrency` worker threads. Hooks run on worker threads.
// Limitations: a crash between CommandReceived and the queued record makes the redelivery emit
// CommandReceived again (the command still runs once); between a terminal event and the finished
// record, a restart adds CommandInterrupted after it (the projector keeps the first terminal
// event). Built-in actions other than reboot cannot be cancelled.
#pragma once

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/commands/command_check.h"
#include "agent/commands/command_fetcher.h"
#include "agent/commands/command_keys.h"
#include "agent/commands/command_store.h"
#include "agent/commands/lifecycle.h"
#include "agent/commands/process_run.h"
#include "common/command_signing.h"

namespace rmm::agent {

struct CommandRunnerOptions {
  // <state_dir>/commands: the CommandStore; <state_dir>/command-scripts: scripts while they
  // run; <state_dir>/applied_config: settings from apply_config.
  std::filesystem::path state_dir;
  int concurrency = 4;
  std::size_t max_queue = 1000;  // beyond: rejected ("queue full")
  CommandLimits limits;
  // The command keys trusted at start (load_command_keys); empty: every command is refused. A
  // trust_command_keys command replaces them and writes <state_dir>/command_keys.
  std::vector<signing::TrustedKey> command_keys;
  OutputOptions output;
  FetcherOptions fetch;
  CommandStoreOptions store;
  // This boot (platform::boot_id() in host_info.h, as for the outbox): tells a reboot command
  // found running at start from an interrupted one. Empty: every such command is interrupted.
  std::string boot_id;
  std::chrono::milliseconds reboot_wait{10 * 60 * 1000};  // then "did not reboot"
  // At start, how long to wait for what is left of an interrupted program to die after SIGKILL
  // (only a process stuck in the kernel takes long) before it is reported anyway, saying so.
  std::chrono::milliseconds leftover_wait{5000};
};

// What built-in actions do. Unset members use the defaults described.
struct CommandHooks {
  // Default: collects an Inventory and appends it to the outbox.
  std::function<Status()> refresh_inventory;
  // The text the command returns on stdout. Default: the top processes by CPU and memory over
  // one second, tab-separated.
  std::function<Result<std::string>()> collect_processes;
  // Validates and applies settings live; called before they are persisted, an error leaves the
  // file unchanged. Unset: persisted only, applied at the next start.
  std::function<Status(const codec::KeyValues&)> apply_config;
  // Default: platform::reboot_machine(). Tests must set it.
  std::function<Status()> reboot;
  // Unset: update_agent is rejected ("updater not installed").
  // Called with the command's id, which the updater's UpdateProgress events carry.
  std::function<Status(const CommandId&, const codec::UpdateAgentSpec&)> update_agent;
};

struct CommandRunnerStats {
  std::uint64_t accepted = 0;    // new commands received
  std::uint64_t duplicates = 0;  // deliveries of known ids (acked, not run)
  std::uint64_t unreadable = 0;  // deliveries that are no command at all (terminated)
  std::uint64_t refused = 0;     // unsigned, mis-signed or another agent's (terminated)
  std::uint64_t finished = 0;    // terminal events written
  std::size_t queued = 0;
  std::size_t running = 0;
};

class CommandRunner {
 public:
  // `conn` may be null: no fetching, commands only through accept() (tests).
  static Result<std::unique_ptr<CommandRunner>> create(Outbox& outbox, nats::Connection* conn,
                                                       const AgentId& agent,
                                                       CommandRunnerOptions options,
                                                       CommandHooks hooks = {},
                                                       const Clock& clock = real_clock());
  ~CommandRunner();
  CommandRunner(const CommandRunner&) = delete;
  CommandRunner& operator=(const CommandRunner&) = delete;

  // Settles the previous run (see above), starts the workers, then the fetcher.
  Status start();
  // Stops fetching, interrupts running commands (their process groups are stopped and they are
  // reported interrupted), joins every thread. Queued commands stay recorded and run after the
  // next start.
  void stop();

  // One delivered command message (the fetcher's handler).
  Disposition accept(std::span<const std::uint8_t> bytes, const Delivery& delivery);

  CommandRunnerStats stats() const;

 private:
  struct Job {
    PreparedCommand command;
    std::shared_ptr<RunControl> control = std::make_shared<RunControl>();
    std::uint64_t ticket = 0;  // order of dequeueing: commands start in this order
  };

  // Holds a job's turn to start, from dequeue until its CommandStarted (or its early end), so
  // concurrent workers still start commands, and report them started, in order of arrival.
  class StartTurn {
   public:
    StartTurn(CommandRunner& runner, std::uint64_t ticket);
    ~StartTurn() { release(); }
    void release();

   private:
    CommandRunner& runner_;
    bool held_ = true;
  };

  CommandRunner(Outbox& outbox, nats::Connection* conn, const AgentId& agent,
                CommandRunnerOptions options, CommandHooks hooks, const Clock& clock);
  Status recover();
  std::string settle_leftovers(const CommandRecord& record);
  bool enqueue(Job job);
  void worker();
  void execute(Job& job);
  void run_program(Job& job, StartTurn& turn);
  void run_action(Job& job, StartTurn& turn);
  void finish(const CommandId& id, Status event);
  Status handle_cancel(const CommandId& cancel_id, const CommandId& target);
  Status handle_trust(const CommandId& id, const codec::TrustCommandKeysSpec& spec);
  Disposition refuse(const codec::OpenedCommand& opened, bool known, const Delivery& delivery);
  Status reject(const CommandId& id, std::string_view reason);
  Result<std::string> write_script(const CommandId& id, const platform::ScriptFile& script);
  Status default_refresh_inventory();

  Outbox& outbox_;
  nats::Connection* conn_;
  AgentId agent_;
  CommandRunnerOptions options_;
  CommandHooks hooks_;
  const Clock& clock_;
  Lifecycle lifecycle_;
  CommandKeys keys_;
  std::unique_ptr<CommandStore> store_;
  std::unique_ptr<CommandFetcher> fetcher_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  // Running jobs: the control of each (for cancel and stop), and whether it is a process.
  std::map<CommandId, std::pair<std::shared_ptr<RunControl>, bool>> running_;
  bool stopping_ = false;
  std::uint64_t next_ticket_ = 0;  // the next dequeued job's ticket
  std::uint64_t turn_ = 0;         // the ticket whose turn it is to start
  std::vector<std::thread> workers_;
  CommandRunnerStats stats_;
};

}  // namespace rmm::agent
