#include "api/auth/credential_store.h"

#include <fmt/format.h>

#include "api/auth/authenticator.h"
#include "api/db/sql_params.h"

namespace rmm::api::auth_store {

std::string pg_seconds(UnixNanos t) {
  return fmt::format("{}.{:09}", t / 1'000'000'000, t % 1'000'000'000);
}

std::optional<LoginUser> find_login(pqxx::transaction_base& tx, std::string_view username) {
  auto rows = tx.exec_params(R"sql(
    SELECT c.user_id::text, c.password_hash, u.role
      FROM auth.credentials c JOIN users u ON u.id = c.user_id AND NOT u.disabled
     WHERE c.username = $1)sql",
                             std::string(username));
  if (rows.empty()) return std::nullopt;
  auto id = UserId::parse(rows[0][0].c_str());
  auto role = codec::role_from_name(rows[0][2].c_str());
  if (!id || !role) return std::nullopt;
  return LoginUser{*id, rows[0][1].c_str(), *role};
}

void put_credential(pqxx::transaction_base& tx, const UserId& user, std::string_view username,
                    std::string_view password_hash, UnixNanos now) {
  tx.exec_params(R"sql(
    INSERT INTO auth.credentials (user_id, username, password_hash, updated_at)
    VALUES ($1::uuid, $2, $3, to_timestamp($4::double precision))
    ON CONFLICT (user_id) DO UPDATE
      SET username = EXCLUDED.username, password_hash = EXCLUDED.password_hash,
          updated_at = EXCLUDED.updated_at)sql",
                 user.str(), std::string(username), std::string(password_hash), pg_seconds(now));
}

bool owner_exists(pqxx::transaction_base& tx, bool pending) {
  auto rows = pending ? tx.exec("SELECT 1 FROM auth.credentials LIMIT 1") : tx.exec(R"sql(
    SELECT 1 FROM auth.credentials c JOIN users u ON u.id = c.user_id
     WHERE u.role = 'owner' AND NOT u.disabled LIMIT 1)sql");
  return !rows.empty();
}

std::optional<UnixNanos> locked_until(pqxx::transaction_base& tx, std::string_view username,
                                      std::string_view source, UnixNanos now) {
  auto rows = tx.exec_params(R"sql(
    SELECT (extract(epoch FROM locked_until) * 1000000)::bigint FROM auth.login_failures
     WHERE username = $1 AND source = $2 AND locked_until > to_timestamp($3::double precision))sql",
                             std::string(username), std::string(source), pg_seconds(now));
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<std::int64_t>() * 1000;
}

bool record_failure(pqxx::transaction_base& tx, std::string_view username, std::string_view source,
                    UnixNanos now, const LockoutPolicy& policy) {
  const std::int64_t window_ns = policy.window.count() * 1'000'000;
  int failures = 1;
  auto rows = tx.exec_params(R"sql(
    SELECT failures, (extract(epoch FROM last_failure_at) * 1000000)::bigint
      FROM auth.login_failures WHERE username = $1 AND source = $2 FOR UPDATE)sql",
                             std::string(username), std::string(source));
  if (!rows.empty() && now - rows[0][1].as<std::int64_t>() * 1000 <= window_ns) {
    failures = rows[0][0].as<int>() + 1;
  }
  bool lock = failures >= policy.max_failures;
  std::optional<std::string> until;
  if (lock) until = pg_seconds(now + policy.lockout.count() * 1'000'000);
  // A lock starts a fresh count: the next failure after it expires counts from 1 again.
  tx.exec_params(R"sql(
    INSERT INTO auth.login_failures (username, source, failures, last_failure_at, locked_until)
    VALUES ($1, $2, $3, to_timestamp($4::double precision), to_timestamp($5::double precision))
    ON CONFLICT (username, source) DO UPDATE
      SET failures = EXCLUDED.failures, last_failure_at = EXCLUDED.last_failure_at,
          locked_until = COALESCE(EXCLUDED.locked_until, auth.login_failures.locked_until))sql",
                 std::string(username), std::string(source), lock ? 0 : failures, pg_seconds(now),
                 until);
  // Pairs that failed and went quiet would pile up (every name and address a flood tries): forget
  // those past both the window and any lock. The table holds what the sign-in rate limits let in
  // over one window (5/s for 15 min: at most 4,500 rows), so this scan stays small.
  tx.exec_params(R"sql(
    DELETE FROM auth.login_failures
     WHERE last_failure_at < to_timestamp($1::double precision)
       AND (locked_until IS NULL OR locked_until < to_timestamp($2::double precision)))sql",
                 pg_seconds(now - window_ns), pg_seconds(now));
  return lock;
}

void clear_failures(pqxx::transaction_base& tx, std::string_view username,
                    std::string_view source) {
  tx.exec_params("DELETE FROM auth.login_failures WHERE username = $1 AND source = $2",
                 std::string(username), std::string(source));
}

void create_session(pqxx::transaction_base& tx, std::string_view token, const UserId& user,
                    const std::optional<UserId>& acting_as, UnixNanos now, UnixNanos expires_at,
                    std::optional<std::string_view> parent_token) {
  std::optional<std::string> acting;
  if (acting_as) acting = acting_as->str();
  std::optional<std::string> parent;
  if (parent_token) parent = Authenticator::token_hash_hex(*parent_token);
  tx.exec_params(R"sql(
    INSERT INTO auth.sessions (token_hash, user_id, acting_as_user_id, created_at, expires_at,
                               parent_token_hash)
    VALUES (decode($1, 'hex'), $2::uuid, $3::uuid, to_timestamp($4::double precision),
            to_timestamp($5::double precision), decode($6, 'hex')))sql",
                 Authenticator::token_hash_hex(token), user.str(), acting, pg_seconds(now),
                 pg_seconds(expires_at), parent);
}

std::optional<UnixNanos> session_expiry(pqxx::transaction_base& tx, std::string_view token,
                                        UnixNanos now) {
  auto rows = tx.exec_params(R"sql(
    SELECT (extract(epoch FROM expires_at) * 1000000)::bigint FROM auth.sessions
     WHERE token_hash = decode($1, 'hex') AND revoked_at IS NULL
       AND expires_at > to_timestamp($2::double precision))sql",
                             Authenticator::token_hash_hex(token), pg_seconds(now));
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<std::int64_t>() * 1000;
}

bool revoke_session(pqxx::transaction_base& tx, std::string_view token, UnixNanos now) {
  auto r = tx.exec_params(R"sql(
    UPDATE auth.sessions SET revoked_at = to_timestamp($2::double precision)
     WHERE token_hash = decode($1, 'hex') AND revoked_at IS NULL)sql",
                          Authenticator::token_hash_hex(token), pg_seconds(now));
  return r.affected_rows() > 0;
}

}  // namespace rmm::api::auth_store
