// The bounded pool of Argon2id work in rmm-api (sign-ins, new passwords). Each hash or verification
// takes ~0.1 s of a core and 64 MiB (passwords.h) on a request worker; unbounded, a burst of
// failed sign-ins held every worker and every core, and any other request waited behind them for
// seconds. Here at most `concurrent` run at once and at most `waiting` callers queue for a turn;
// anyone beyond is refused at once (enter() gives nothing: answer 429/503 with Retry-After), before
// any other work. So a burst holds at most concurrent + waiting request workers (App keeps at least
// one free) and at most `concurrent` cores.
//
// The caller's own worker thread runs the hash once its turn comes (no hand-off to other threads):
// the bound is on workers held and work done at once, which is what other requests wait for.
//
// Concurrency: thread-safe. A Ticket is used by the one thread that entered.
// Limitations: refusal is not fair between callers: under a sustained flood, a legitimate sign-in
// competes with the flood for the places (docs/api.md); the per-source limits in front bound what
// one address can take.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace rmm::api {

class PasswordGate {
 public:
  struct Options {
    int concurrent = 1;  // Argon2id computations at once (each takes a core while it runs)
    int waiting = 1;     // callers that may wait for a turn
    std::chrono::milliseconds max_wait{10'000};  // a turn not given by then: kTimeout
  };

  // A place in the gate: running, or waiting for a turn. Released when destroyed.
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept : gate_(std::exchange(other.gate_, nullptr)) {}
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket();

    // verify_password() / hash_password() once a turn is free (kTimeout after max_wait).
    Result<bool> verify(std::string_view hash, std::string_view password);
    Result<std::string> hash(std::string_view password);

   private:
    friend class PasswordGate;
    explicit Ticket(PasswordGate* gate) : gate_(gate) {}
    template <class Fn>
    auto run(Fn&& fn) -> Result<decltype(fn())>;
    PasswordGate* gate_;
  };

  explicit PasswordGate(Options options) : options_(options) {}

  // A place, or nothing when `concurrent + waiting` callers hold one.
  std::optional<Ticket> enter();

  struct Counts {
    int admitted = 0;  // running or waiting
    int running = 0;
    std::uint64_t refused = 0;  // since start
  };
  Counts counts() const;

 private:
  void leave();

  const Options options_;
  mutable std::mutex mutex_;
  std::condition_variable turn_;
  int admitted_ = 0;
  int running_ = 0;
  std::uint64_t refused_ = 0;
};

}  // namespace rmm::api
