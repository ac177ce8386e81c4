// The command keys of one installation (docs/command-signing.md), under `<home>/command-keys/`
// (mode 0700, files 0600):
//   active.key    the private key commands are signed with ("rmm-command-ed25519 <seed hex>")
//   next.key      the key a rotation is moving to, until it is activated
//   trusted_keys  the public keys agents are told to trust (hex, one a line): by the enrollment
//                 reply and by trust_command_keys commands
// Only the command issuers (rmm-api, the rollout controller) are given this directory; the
// projector, the broker and agents never see a private key.
//
// Rotation: new_command_key (next.key, trusted by new enrollments) -> trust_command_keys to every
// agent -> activate_command_key (next.key becomes active.key; the old private key is deleted) ->
// retire_command_key (the old public key leaves trusted_keys) -> trust_command_keys again.
//
// Concurrency: no locking; run one rmm-admin at a time on a home. Issuers read the files at start.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/signing.h"

namespace rmm::broker {

struct CommandKeyPaths {
  std::filesystem::path dir;
  std::filesystem::path active() const { return dir / "active.key"; }
  std::filesystem::path next() const { return dir / "next.key"; }
  std::filesystem::path trusted() const { return dir / "trusted_keys"; }
};
CommandKeyPaths command_key_paths(const std::filesystem::path& home);

// What a command issuer holds: the key it signs with and the set agents should trust (which
// always includes the signing key).
struct CommandSigner {
  signing::SigningKey key;
  std::vector<signing::TrustedKey> trusted;
  std::string key_id() const { return signing::key_id(key.public_key); }
};

// Creates active.key and trusted_keys when there is no active key yet; otherwise checks them.
// Returns the active key's id.
Result<std::string> init_command_keys(const std::filesystem::path& home);
// Reads a command-keys directory (`<home>/command-keys`). Fails when the active key is missing
// or not in trusted_keys.
Result<CommandSigner> load_command_signer(const std::filesystem::path& dir);
// The public keys agents are told to trust.
Result<std::vector<signing::TrustedKey>> load_trusted_command_keys(
    const std::filesystem::path& dir);

// Creates next.key (refused while one exists) and adds its public key to trusted_keys; returns
// its id.
Result<std::string> new_command_key(const std::filesystem::path& home);
// next.key becomes active.key; the old active private key is deleted (its public key stays
// trusted until retired). Returns the new active key's id.
Result<std::string> activate_command_key(const std::filesystem::path& home);
// Removes a public key from trusted_keys; refused for the active key and for the last one.
Status retire_command_key(const std::filesystem::path& home, std::string_view key_id);

}  // namespace rmm::broker
