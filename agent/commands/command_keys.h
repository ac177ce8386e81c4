// The command keys this agent trusts (docs/command-signing.md): `<state dir>/command_keys`, one
// hex Ed25519 public key per line (mode 0600). Written by `rmm-agent enroll` from the enrollment
// reply, replaced by a signed trust_command_keys command, read at start. Without it the agent runs
// no command at all.
//
// Concurrency: CommandKeys is thread-safe (the fetcher thread reads, a trust_command_keys command
// replaces); the free functions touch only the file.
#pragma once

#include <filesystem>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/signing.h"

namespace rmm::agent {

inline constexpr std::string_view kCommandKeysFile = "command_keys";
inline constexpr std::size_t kMaxCommandKeys = 16;

// kNotFound when the file does not exist; kInvalidInput when it holds no key or a malformed one.
Result<std::vector<signing::TrustedKey>> load_command_keys(const std::filesystem::path& state_dir);
// Written durably (temp, fsync, rename, fsync of the directory).
Status save_command_keys(const std::filesystem::path& state_dir,
                         std::span<const signing::TrustedKey> keys);
// A key list as sent by the enrollment reply or a trust_command_keys command: 1 to
// kMaxCommandKeys hex public keys, no duplicates.
Result<std::vector<signing::TrustedKey>> parse_command_key_list(
    std::span<const std::string> public_keys);

class CommandKeys {
 public:
  explicit CommandKeys(std::vector<signing::TrustedKey> keys = {}) : keys_(std::move(keys)) {}
  std::vector<signing::TrustedKey> get() const {
    std::lock_guard lock(mutex_);
    return keys_;
  }
  void set(std::vector<signing::TrustedKey> keys) {
    std::lock_guard lock(mutex_);
    keys_ = std::move(keys);
  }

 private:
  mutable std::mutex mutex_;
  std::vector<signing::TrustedKey> keys_;
};

}  // namespace rmm::agent
