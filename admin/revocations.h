// Revoked agent keys: the RMM account JWT's `revocations` map (user public key -> Unix seconds;
// user JWTs of that key issued at or before then are refused), kept in
// `<home>/nats/revocations.json` so every later mint of the account JWT carries them.
//
// nats-server runs a MEMORY resolver: the account JWT is preloaded from its config file, so a
// revocation rewrites that JWT in the rendered config and asks the server to reload (SIGHUP).
// On reload the server re-reads the preloads and applies the new claims: new connections with a
// revoked JWT are refused and live ones are closed.
//
// Concurrency: revoke_user_keys holds an exclusive flock on <home>/nats/revocations.lock, so
// rmm-admin and rmm-api (its revocation route and enrollment responder) may revoke at once.
// Limitations: the server's pid must be known (tools/rmm keeps it in $RMM_HOME/run/nats.pid).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::broker {

using RevocationMap = std::map<std::string, std::int64_t>;

// `<nats_dir>/revocations.json`; a missing file is an empty map, a corrupt one an error.
Result<RevocationMap> load_revocations(const std::filesystem::path& nats_dir);
Status save_revocations(const std::filesystem::path& nats_dir, const RevocationMap& revocations);

// The config text with the preloaded JWT of `account_public_key` replaced by `jwt`.
Result<std::string> replace_preloaded_jwt(std::string_view config_text,
                                          std::string_view account_public_key,
                                          std::string_view jwt);

struct RevokeKeysRequest {
  std::filesystem::path home;
  std::vector<std::string> user_public_keys;  // "U..." keys
  std::int64_t at_unix_seconds = 0;
  std::filesystem::path server_config;  // rendered nats-server config to update; empty: none
  pid_t server_pid = 0;                 // SIGHUP after the update; 0: no reload
};

// Records the keys in revocations.json, re-mints account_rmm.jwt, rewrites the server config's
// preload and signals the reload. Idempotent: revoking a key again keeps its first time.
Status revoke_user_keys(const RevokeKeysRequest& request);

}  // namespace rmm::broker
