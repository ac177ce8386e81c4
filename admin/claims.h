// Claims of the NATS operator, account and user JWTs (nats JWT v2 as read by nats-server 2.9).
// Build the claims here, sign them with encode_jwt().
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rmm::broker {

// Per-connection limits of a user (nats JWT v2 user limits, or a scoped key's template); -1 is
// unlimited. nats-server 2.9 also caps them by the account's and its own max_payload.
struct ConnectionLimits {
  std::int64_t subscriptions = -1;
  std::int64_t payload = -1;  // bytes of one message, headers included
};

// What one agent connection may use: its subscriptions are its inbox, its command consumer's
// pulls and the JetStream publish replies (a handful; 64 leaves room), and its biggest message is
// an Inventory or a command output chunk, kept under the broker's default max_payload (1 MiB).
// A connection past a limit is refused the subscription or closed for the oversized message.
inline constexpr ConnectionLimits kAgentConnectionLimits{.subscriptions = 64, .payload = 1 << 20};

// A scoped signing key (`kind: user_scope`): users it signs get `template` as their permissions
// and limits, with `{{tag(x)}}` / `{{name()}}` replaced per user.
struct ScopedSigningKey {
  std::string key;  // account-type public key
  std::string role;
  std::vector<std::string> pub_allow;
  std::vector<std::string> sub_allow;
  ConnectionLimits limits = kAgentConnectionLimits;  // the only scoped key signs agents
};

// `from` -> `to`, weight 100 (e.g. a `{{partition(n,i)}}` mapping).
struct SubjectMapping {
  std::string from;
  std::string to;
};

// The limits of an account (nats JWT v2 account `limits`); -1 is unlimited. The defaults are the
// RMM account's (docs/operations.md, "Broker account limits"), checked on nats-server 2.9.10 by
// tests/broker/account_limits_test.cc.
struct AccountLimits {
  // Connections of the whole account: every agent holds one, each service a few.
  std::int64_t connections = 100'000;
  std::int64_t leaf_connections = 1'000;  // one per site leaf node (admin/leaf_config.h)
  // Per connection (the account's cap on every user's own): the services' connections subscribe
  // to a few subjects each, the API's live hub to one per stream it serves.
  std::int64_t subscriptions = 10'000;
  // One message, headers included: a release chunk may be up to RMM_RELEASES' max_msg_size
  // (9 MiB) when the server's max_payload allows it; the server's (1 MiB by default) still binds.
  std::int64_t payload = 9 * (1 << 20) + 64 * 1024;
  std::int64_t imports = 0, exports = 0;  // the account shares nothing
  // JetStream (only with AccountSpec::jetstream). Streams are file streams whose byte limits
  // rmm-admin apply-streams sets within the storage budget (admin/stream_limits.h); the store as a
  // whole is bounded by nats-server's max_file_store (the filesystem's size, render-config). The
  // account takes no byte limit of its own (-1: up to max_file_store): the budget is decided by
  // apply-streams after the JWT is minted, and nats-server 2.9.10 counted some streams'
  // reservations twice while recovering them after a restart against the server's store limit
  // (docs/operations.md), which an account limit near the budget would risk too. It requires a
  // byte limit on every stream instead, and allows no memory storage.
  std::int64_t disk_storage = -1;
  std::int64_t mem_storage = 0;
  bool max_bytes_required = true;
  std::int64_t streams = 16;         // the 4 of broker-config/streams, and room
  std::int64_t consumers = 100'000;  // per stream: RMM_COMMANDS has one durable per agent
};

struct AccountSpec {
  std::string name;
  // Disk storage is what enables JetStream for an account in JWT mode (a non-zero limit).
  bool jetstream = false;
  AccountLimits limits{};
  std::vector<SubjectMapping> mappings;
  std::vector<ScopedSigningKey> scoped_keys;
  // User public key -> Unix seconds: user JWTs of that key issued at or before then are refused.
  std::map<std::string, std::int64_t> revocations;
  // The JWT's `iat` (Unix seconds); 0: now. A NATS-based resolver keeps the JWT with the newest
  // `iat` (admin/revocations.h, account_claims_version), so the RMM account's is a version.
  std::int64_t issued_at = 0;
};

struct UserSpec {
  std::string name;
  std::vector<std::string> tags;  // lower-case, "key:value"
  // The account's public key, required when the issuer is a signing key rather than the account.
  std::string issuer_account;
  // A user of a scoped key must carry no permissions or limits of its own.
  bool scoped = false;
  // Non-scoped users only: when either list is non-empty, the user may publish / subscribe to
  // exactly these subjects (empty lists with both empty: the account's full rights).
  std::vector<std::string> pub_allow;
  std::vector<std::string> sub_allow;
};

// `issued_at`: the JWT's iat (Unix seconds); 0: now. nats-server 2.9.10 refuses to reload a
// config whose operator JWT changed ("config reload not supported for TrustedOperators"), so a
// config rendered again must carry the same operator JWT, byte for byte.
boost::json::object operator_claims(std::string_view operator_public_key, std::string_view name,
                                    std::string_view system_account, std::int64_t issued_at = 0);
boost::json::object account_claims(std::string_view account_public_key, const AccountSpec& spec);
boost::json::object user_claims(std::string_view user_public_key, const UserSpec& spec);

}  // namespace rmm::broker
