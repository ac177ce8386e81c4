#include "api/auth/password_gate.h"

#include "api/auth/passwords.h"

namespace rmm::api {

std::optional<PasswordGate::Ticket> PasswordGate::enter() {
  std::lock_guard lock(mutex_);
  if (admitted_ >= options_.concurrent + options_.waiting) {
    ++refused_;
    return std::nullopt;
  }
  ++admitted_;
  return Ticket(this);
}

void PasswordGate::leave() {
  std::lock_guard lock(mutex_);
  --admitted_;
}

PasswordGate::Counts PasswordGate::counts() const {
  std::lock_guard lock(mutex_);
  return {admitted_, running_, refused_};
}

PasswordGate::Ticket::~Ticket() {
  if (gate_ != nullptr) gate_->leave();
}

template <class Fn>
auto PasswordGate::Ticket::run(Fn&& fn) -> Result<decltype(fn())> {
  PasswordGate& g = *gate_;
  {
    std::unique_lock lock(g.mutex_);
    if (!g.turn_.wait_for(lock, g.options_.max_wait,
                          [&] { return g.running_ < g.options_.concurrent; })) {
      return fail(Error::Code::kTimeout, "no turn for the password hash in time");
    }
    ++g.running_;
  }
  auto out = fn();
  {
    std::lock_guard lock(g.mutex_);
    --g.running_;
  }
  g.turn_.notify_one();
  return out;
}

Result<bool> PasswordGate::Ticket::verify(std::string_view hash, std::string_view password) {
  return run([&] { return verify_password(hash, password); });
}

Result<std::string> PasswordGate::Ticket::hash(std::string_view password) {
  auto out = run([&] { return hash_password(password); });
  if (!out) return std::unexpected(out.error());
  return std::move(*out);
}

}  // namespace rmm::api
