// rmm-api's SSO rows in PostgreSQL (schema `auth`, projector/migrations/0016): sign-ins under way
// (state, PKCE verifier, nonce; single use, with expiry) and the links from a provider identity
// to a GuruRMM user. Never part of the log.
//
// Every function runs inside the caller's transaction; times are passed in (the injected clock).
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/control_plane_events.h"

namespace rmm::api::oidc_store {

struct Pending {
  std::string code_verifier;
  std::string nonce;
};

// Removes expired sign-ins and counts the live ones (the caller refuses new ones past a cap).
std::int64_t purge_and_count_pending(pqxx::transaction_base& tx, UnixNanos now);
// Stores a sign-in under the SHA-256 of its state.
void put_pending(pqxx::transaction_base& tx, std::string_view state, const Pending& pending,
                 UnixNanos expires_at);
// Deletes and returns the sign-in of `state` if it has not expired: a state works once.
std::optional<Pending> take_pending(pqxx::transaction_base& tx, std::string_view state,
                                    UnixNanos now);

struct LinkedUser {
  UserId user;
  schema::UserRole role = schema::UserRole::ReadOnly;
};
// The enabled user linked to (issuer, subject), if any.
std::optional<LinkedUser> linked_user(pqxx::transaction_base& tx, std::string_view issuer,
                                      std::string_view subject);

struct Link {
  std::string issuer;
  std::string subject;
  std::string created_at;  // RFC 3339
};
std::vector<Link> links_of(pqxx::transaction_base& tx, const UserId& user);
// Links (issuer, subject) to `user`, replacing a link of that identity to another user.
void link(pqxx::transaction_base& tx, std::string_view issuer, std::string_view subject,
          const UserId& user, const UserId& by);
// Removes every link of `user` (to `issuer`); the number removed.
std::int64_t unlink(pqxx::transaction_base& tx, std::string_view issuer, const UserId& user);

}  // namespace rmm::api::oidc_store
