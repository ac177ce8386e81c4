#include "admin/command_keys.h"

#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "common/command_signing.h"
#include "common/files.h"

namespace rmm::broker {
namespace {

namespace fs = std::filesystem;

bool file_exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

Status save_trusted(const CommandKeyPaths& paths, std::span<const signing::TrustedKey> keys) {
  return files::write_atomic(paths.trusted(), signing::format_trusted_keys(keys), 0600);
}

bool contains(std::span<const signing::TrustedKey> keys, const signing::PublicKey& key) {
  return std::any_of(keys.begin(), keys.end(),
                     [&](const signing::TrustedKey& k) { return k.public_key == key; });
}

}  // namespace

CommandKeyPaths command_key_paths(const fs::path& home) {
  return {home / "command-keys"};
}

Result<std::vector<signing::TrustedKey>> load_trusted_command_keys(const fs::path& dir) {
  CommandKeyPaths paths{dir};
  auto text = files::read_all(paths.trusted());
  if (!text) return std::unexpected(text.error());
  auto keys = signing::parse_trusted_keys(*text);
  if (!keys) return std::unexpected(with_context(keys.error(), paths.trusted().string()));
  if (keys->empty()) return failf("{} lists no key", paths.trusted().string());
  return keys;
}

Result<CommandSigner> load_command_signer(const fs::path& dir) {
  CommandKeyPaths paths{dir};
  auto key = signing::load_private_key(paths.active(), codec::kCommandKeyTag);
  if (!key) return std::unexpected(key.error());
  auto trusted = load_trusted_command_keys(dir);
  if (!trusted) return std::unexpected(trusted.error());
  if (!contains(*trusted, key->public_key)) {
    return failf("{}: the active key {} is not among the trusted keys", dir.string(),
                 signing::key_id(key->public_key));
  }
  return CommandSigner{*key, std::move(*trusted)};
}

Result<std::string> init_command_keys(const fs::path& home) {
  auto paths = command_key_paths(home);
  if (auto s = files::ensure_dir(paths.dir, 0700); !s) return std::unexpected(s.error());
  if (!file_exists(paths.active())) {
    auto key = signing::generate_key();
    if (auto s = signing::save_private_key(paths.active(), key, codec::kCommandKeyTag); !s) {
      return std::unexpected(s.error());
    }
    std::vector<signing::TrustedKey> trusted;
    if (file_exists(paths.trusted())) {
      auto existing = load_trusted_command_keys(paths.dir);
      if (!existing) return std::unexpected(existing.error());
      trusted = std::move(*existing);
    }
    if (!contains(trusted, key.public_key)) trusted.push_back(signing::trusted_key(key.public_key));
    if (auto s = save_trusted(paths, trusted); !s) return std::unexpected(s.error());
  }
  auto signer = load_command_signer(paths.dir);
  if (!signer) return std::unexpected(signer.error());
  return signer->key_id();
}

Result<std::string> new_command_key(const fs::path& home) {
  auto paths = command_key_paths(home);
  auto signer = load_command_signer(paths.dir);
  if (!signer) return std::unexpected(signer.error());
  if (file_exists(paths.next())) {
    return failf("{} exists: activate it (command-key-activate) before making another",
                 paths.next().string());
  }
  auto key = signing::generate_key();
  if (auto s = signing::save_private_key(paths.next(), key, codec::kCommandKeyTag); !s) {
    return std::unexpected(s.error());
  }
  auto trusted = signer->trusted;
  if (!contains(trusted, key.public_key)) trusted.push_back(signing::trusted_key(key.public_key));
  if (auto s = save_trusted(paths, trusted); !s) return std::unexpected(s.error());
  return signing::key_id(key.public_key);
}

Result<std::string> activate_command_key(const fs::path& home) {
  auto paths = command_key_paths(home);
  auto next = signing::load_private_key(paths.next(), codec::kCommandKeyTag);
  if (!next) return std::unexpected(next.error());
  auto trusted = load_trusted_command_keys(paths.dir);
  if (!trusted) return std::unexpected(trusted.error());
  if (!contains(*trusted, next->public_key)) {
    return failf("{} is not among the trusted keys", paths.next().string());
  }
  // rename() replaces active.key atomically: the old private key is gone with it.
  std::error_code ec;
  fs::rename(paths.next(), paths.active(), ec);
  if (ec) return failf("activating {}: {}", paths.next().string(), ec.message());
  return signing::key_id(next->public_key);
}

Status retire_command_key(const fs::path& home, std::string_view key_id) {
  auto paths = command_key_paths(home);
  auto signer = load_command_signer(paths.dir);
  if (!signer) return std::unexpected(signer.error());
  if (signer->key_id() == key_id) {
    return failf("{} is the active key: activate another one first", key_id);
  }
  auto trusted = signer->trusted;
  auto it = std::find_if(trusted.begin(), trusted.end(),
                         [&](const signing::TrustedKey& k) { return k.key_id == key_id; });
  if (it == trusted.end()) return failf("no trusted command key has the id {}", key_id);
  trusted.erase(it);
  return save_trusted(paths, trusted);
}

}  // namespace rmm::broker
