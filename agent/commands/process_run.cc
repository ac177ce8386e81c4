#include "agent/commands/process_run.h"

#include <thread>

#include "common/log.h"

namespace rmm::agent {
namespace {

using Clock_t = std::chrono::steady_clock;
constexpr auto kGiveUpAfterKill = std::chrono::seconds(10);

// Output of one stream on its way into CommandOutput chunks.
struct StreamState {
  schema::OutputStream stream;
  std::string pending;
  std::uint64_t kept = 0;     // bytes kept so far (the next chunk's offset + pending.size())
  std::uint64_t written = 0;  // bytes the process wrote
  bool truncated = false;
  bool marker_due = false;  // the truncation marker has not been sent yet
};

class OutputChunker {
 public:
  OutputChunker(const CommandId& id, std::size_t cap, Lifecycle& lifecycle)
      : id_(id), cap_(cap), lifecycle_(lifecycle) {
    streams_[0].stream = schema::OutputStream::Stdout;
    streams_[1].stream = schema::OutputStream::Stderr;
  }

  // Takes what a read returned; returns true when a stream just reached its cap.
  bool add(int index, std::string& bytes) {
    auto& s = streams_[index];
    s.written += bytes.size();
    if (s.truncated) {
      bytes.clear();
      return false;
    }
    std::size_t room = cap_ - static_cast<std::size_t>(s.kept + s.pending.size());
    if (bytes.size() > room) {
      s.pending.append(bytes, 0, room);
      s.truncated = true;
      s.marker_due = true;
      bytes.clear();
      return true;
    }
    s.pending += bytes;
    bytes.clear();
    return false;
  }

  std::size_t largest_pending() const {
    return std::max(streams_[0].pending.size(), streams_[1].pending.size());
  }

  // Sends every stream's pending bytes (and a due truncation marker) in chunks of at most
  // `chunk_bytes`.
  void flush(std::size_t chunk_bytes) {
    for (auto& s : streams_) {
      std::size_t at = 0;
      while (at < s.pending.size() || (s.marker_due && at == s.pending.size())) {
        std::size_t n = std::min(chunk_bytes, s.pending.size() - at);
        bool last = at + n == s.pending.size();
        codec::CommandOutputInfo chunk{
            .command = id_,
            .stream = s.stream,
            .chunk_index = next_index_++,
            .offset = s.kept,
            .data = std::span(reinterpret_cast<const std::uint8_t*>(s.pending.data()) + at, n),
            .truncated = last && s.marker_due};
        if (auto st = lifecycle_.output(chunk); !st) {
          log::error("command.output_lost",
                     {{"command_id", id_.str()}, {"error", st.error().message}});
        }
        s.kept += n;
        at += n;
        if (last) s.marker_due = false;
      }
      s.pending.clear();
    }
  }

  void fill(RunResult& r) const {
    for (int i = 0; i < 2; ++i) {
      r.bytes[i] = streams_[i].written;
      r.truncated[i] = streams_[i].truncated;
    }
  }

 private:
  CommandId id_;
  std::size_t cap_;
  Lifecycle& lifecycle_;
  StreamState streams_[2];
  std::uint32_t next_index_ = 0;
};

}  // namespace

void send_output(const CommandId& id, std::string_view out, std::string_view err, std::size_t cap,
                 std::size_t chunk_bytes, Lifecycle& lifecycle, RunResult& result) {
  OutputChunker chunker(id, cap, lifecycle);
  std::string o(out), e(err);
  chunker.add(0, o);
  chunker.add(1, e);
  chunker.flush(chunk_bytes);
  chunker.fill(result);
}

RunResult run_process(platform::ChildProcess& child, const CommandId& id,
                      std::chrono::milliseconds timeout, std::size_t cap,
                      const OutputOptions& options, RunControl& control, Lifecycle& lifecycle,
                      const Clock& clock) {
  RunResult result;
  OutputChunker chunker(id, cap, lifecycle);
  const auto start = clock.steady_now();
  const auto deadline = start + timeout;
  auto last_flush = start;
  std::optional<Clock_t::time_point> exited_at;  // when the process exited by itself
  std::optional<Clock_t::time_point> term_at;    // when we sent SIGTERM
  bool open = true;
  std::string out, err;

  while (true) {
    if (open) {
      open = child.read_some(options.poll_slice, options.chunk_bytes, out, err);
    } else {
      std::this_thread::sleep_for(options.poll_slice);  // pipes closed: wait for the exit
    }
    bool capped = chunker.add(0, out);
    capped = chunker.add(1, err) || capped;
    auto now = clock.steady_now();
    if (capped || chunker.largest_pending() >= options.chunk_bytes ||
        now - last_flush >= options.chunk_interval) {
      chunker.flush(options.chunk_bytes);
      last_flush = now;
    }

    auto exit = child.poll_exit();
    if (exit && !exited_at) exited_at = now;
    if (!term_at) {
      if (exit) {
        // Done when the pipes are closed, or after a bounded drain if a background child
        // inherited them.
        if (!open || now - *exited_at >= options.drain_after_exit) break;
        continue;
      }
      RunEnd end = RunEnd::kCompleted;
      int stop = control.stop.load();
      if (stop == static_cast<int>(StopRequest::kCancel)) {
        end = RunEnd::kCancelled;
      } else if (stop == static_cast<int>(StopRequest::kShutdown)) {
        end = RunEnd::kInterrupted;
      } else if (now >= deadline) {
        end = RunEnd::kTimedOut;
      }
      if (end != RunEnd::kCompleted) {
        result.end = end;
        child.terminate_group();
        term_at = now;
      }
      continue;
    }
    // Stopping: SIGKILL the group after the grace period, and until no member is left.
    if (now - *term_at >= options.kill_grace && child.group_alive()) {
      if (!result.killed) log::info("command.kill", {{"command_id", id.str()}});
      child.kill_group();
      result.killed = true;
    }
    if (exit && !child.group_alive()) break;
    if (exit && !open && now - *term_at >= options.kill_grace + options.drain_after_exit) break;
    if (now - *term_at >= options.kill_grace + kGiveUpAfterKill) {
      // Only a process stuck in the kernel (uninterruptible sleep) survives SIGKILL this long.
      log::error("command.unkillable", {{"command_id", id.str()}});
      break;
    }
  }
  child.close_output();
  chunker.flush(options.chunk_bytes);
  chunker.fill(result);
  result.exit = child.poll_exit().value_or(platform::ExitStatus{});
  result.duration =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now() - start);
  return result;
}

}  // namespace rmm::agent
