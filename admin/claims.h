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

// A scoped signing key (`kind: user_scope`): users it signs get `template` as their permissions,
// with `{{tag(x)}}` / `{{name()}}` replaced per user.
struct ScopedSigningKey {
  std::string key;  // account-type public key
  std::string role;
  std::vector<std::string> pub_allow;
  std::vector<std::string> sub_allow;
};

// `from` -> `to`, weight 100 (e.g. a `{{partition(n,i)}}` mapping).
struct SubjectMapping {
  std::string from;
  std::string to;
};

struct AccountSpec {
  std::string name;
  // Non-zero storage limits are what enables JetStream for an account in JWT mode.
  bool jetstream = false;
  std::vector<SubjectMapping> mappings;
  std::vector<ScopedSigningKey> scoped_keys;
  // User public key -> Unix seconds: user JWTs of that key issued at or before then are refused.
  std::map<std::string, std::int64_t> revocations;
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
  // Non-scoped users only: may publish one reply to the reply subject of each request it
  // received, within this long (nats "allow_responses"); 0: not at all beyond pub_allow.
  std::int64_t responses_ttl_ns = 0;
};

boost::json::object operator_claims(std::string_view operator_public_key, std::string_view name,
                                    std::string_view system_account);
boost::json::object account_claims(std::string_view account_public_key, const AccountSpec& spec);
boost::json::object user_claims(std::string_view user_public_key, const UserSpec& spec);

}  // namespace rmm::broker
