// Revoked agent keys: the RMM account JWT's `revocations` map (user public key -> Unix seconds;
// user JWTs of that key issued at or before then are refused), kept in
// `<home>/nats/revocations.json` so every later mint of the account JWT carries them.
//
// How a revocation reaches the servers (docs/operations.md, "Revoking keys on a cluster"):
// - A single server runs a MEMORY resolver: the account JWT is preloaded from its config file, so
//   a revocation rewrites that JWT in the rendered config and asks the server to reload (SIGHUP).
//   On reload the server re-reads the preloads and applies the new claims: new connections with a
//   revoked JWT are refused and live ones are closed.
// - The nodes of a cluster run nats-server's `full` resolver (a directory of account JWTs per
//   node): the new JWT is pushed as the system user to $SYS.REQ.ACCOUNT.<RMM>.CLAIMS.UPDATE, which
//   every node receives through the routes, stores and applies (admin/account_push.h). The push
//   also reaches a single server (it applies it at once; the reload makes it last).
// Before a push, the revocations the servers already hold are merged in (a lookup), so a home
// whose revocations.json is older than the cluster's (another machine's copy) adds to them and
// never takes one back.
//
// The JWT's `iat` is a version (account_claims_version): nats-server's `full` resolver keeps the
// newest it has seen when a config's preload or another node's copy is older, and the preload of
// a stale config (rendered before the revocation) must not win over the pushed JWT at a restart.
//
// Concurrency: revoke_user_keys holds an exclusive flock on <home>/nats/revocations.lock, so
// rmm-admin and rmm-api (its revocation route and enrollment responder) may revoke at once.
// Limitations: a node that is down during the push starts with its older JWT, until its resolver's
// next sync with another node (the rendered `interval`, 1 minute) or the next push (any later
// revocation, or `rmm-admin push-account`); a site leaf node runs its own MEMORY resolver
// and needs its config rendered again (docs/operations.md). The reload needs the local server's
// pid (tools/rmm keeps it in $RMM_HOME/run/nats.pid).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/nats_tls.h"
#include "common/result.h"

namespace rmm::broker {

using RevocationMap = std::map<std::string, std::int64_t>;

// The floor of the RMM account JWT's version: the day this build's RMM account claims (limits,
// mappings, signing keys) last changed. Move it forward with any such change, so that the nodes
// of a cluster take the new claims over an older build's.
inline constexpr std::int64_t kAccountClaimsEpoch = 1'796'601'600;  // 2026-12-07 UTC
// The RMM account JWT's `iat`: the latest revocation's time, at least kAccountClaimsEpoch. The
// same revocations give the same version on every machine; a new revocation a newer one.
std::int64_t account_claims_version(const RevocationMap& revocations);
// The revocations of an account JWT signed by `operator_public_key` for `account_public_key`
// (anything else is an error: only our own claims are merged).
Result<RevocationMap> revocations_in_jwt(std::string_view jwt, std::string_view operator_public_key,
                                         std::string_view account_public_key);

// `<nats_dir>/revocations.json`; a missing file is an empty map, a corrupt one an error.
Result<RevocationMap> load_revocations(const std::filesystem::path& nats_dir);
Status save_revocations(const std::filesystem::path& nats_dir, const RevocationMap& revocations);

// The config text with the preloaded JWT of `account_public_key` replaced by `jwt`.
Result<std::string> replace_preloaded_jwt(std::string_view config_text,
                                          std::string_view account_public_key,
                                          std::string_view jwt);

// Where tools/rmm renders a single server's config: <home>/nats/nats-server.conf, else (a bare
// identity home) <home>/nats-server.conf; empty when neither exists (a cluster's nodes have their
// own files and take the revocation from the push).
std::filesystem::path find_server_config(const std::filesystem::path& home);

struct RevokeKeysRequest {
  std::filesystem::path home;
  std::vector<std::string> user_public_keys;  // "U..." keys
  std::int64_t at_unix_seconds = 0;
  std::filesystem::path server_config;  // rendered nats-server config to update; empty: none
  pid_t server_pid = 0;                 // SIGHUP after the update; 0: no reload
  // The broker's URLs (every node's, comma-separated) to merge the servers' revocations from and
  // push the new JWT to, as the system user (<home>/nats/sys.creds). Empty: neither.
  std::string nats_url;
  nats::TlsClientOptions nats_tls;
};

struct RevokeReport {
  std::vector<std::string> servers;  // names of the servers that took the pushed JWT
};

// Merges the servers' revocations (with nats_url), records the keys in revocations.json,
// re-mints account_rmm.jwt, rewrites the server config's preload, signals the reload and pushes
// the JWT. Idempotent: revoking a key again keeps its first time, and pushes again (which brings
// a node that missed a push up to date). A key's time is moved past the current version when
// needed, so that every new JWT is strictly newer than the last (a JWT of that key issued in
// that extra second is refused too).
Result<RevokeReport> revoke_user_keys(const RevokeKeysRequest& request);

}  // namespace rmm::broker
