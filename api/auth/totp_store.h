// The second factor's part of the credential store (schema auth, migration 0015): each user's
// TOTP secret, its recovery codes, and sign-ins waiting for their second step. Like passwords,
// never part of the log; written only by rmm-api.
//
// Every function runs inside the caller's transaction; times are passed in (the injected clock).
//
// Concurrency: whatever the transaction allows; totp_of(..., lock) and pending_of() lock the row
// they read, so two requests cannot both accept the same code or attempt.
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/control_plane_events.h"

namespace rmm::api::auth_store {

struct TotpState {
  std::vector<std::uint8_t> secret;
  bool confirmed = false;
  std::int64_t last_step = -1;  // the last step accepted
};
// The user's TOTP row (confirmed or not); `lock` takes it FOR UPDATE.
std::optional<TotpState> totp_of(pqxx::transaction_base& tx, const UserId& user, bool lock);
// Starts an enrolment: stores an unconfirmed secret, replacing any earlier one and its recovery
// codes (callers refuse when a confirmed one exists).
void put_unconfirmed_totp(pqxx::transaction_base& tx, const UserId& user,
                          const std::vector<std::uint8_t>& secret, UnixNanos now);
// Confirms the enrolment with the step of its first code, and stores the recovery codes' hashes.
void confirm_totp(pqxx::transaction_base& tx, const UserId& user, std::int64_t step,
                  const std::vector<std::string>& recovery_hashes_hex, UnixNanos now);
// Records `step` as used: no code of it or before it is accepted again.
void accept_step(pqxx::transaction_base& tx, const UserId& user, std::int64_t step);
// Removes the user's TOTP and recovery codes.
void delete_totp(pqxx::transaction_base& tx, const UserId& user);
// Marks an unused recovery code used; false when it is not one of the user's unused codes.
bool use_recovery_code(pqxx::transaction_base& tx, const UserId& user,
                       std::string_view code_hash_hex, UnixNanos now);
int recovery_codes_left(pqxx::transaction_base& tx, const UserId& user);

struct PendingLogin {
  UserId user;
  std::string source;
  bool enroll = false;  // the role requires TOTP and the user has none yet
  int attempts = 0;     // second-factor codes tried
};
// Stores a sign-in waiting for its second factor under the SHA-256 of `token`; also forgets those
// that expired.
void create_pending(pqxx::transaction_base& tx, std::string_view token, const UserId& user,
                    std::string_view source, bool enroll, UnixNanos now, UnixNanos expires_at);
// The live pending sign-in of `token`, locked FOR UPDATE.
std::optional<PendingLogin> pending_of(pqxx::transaction_base& tx, std::string_view token,
                                       UnixNanos now);
void count_pending_attempt(pqxx::transaction_base& tx, std::string_view token);
void delete_pending(pqxx::transaction_base& tx, std::string_view token);

}  // namespace rmm::api::auth_store
