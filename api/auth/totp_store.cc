#include "api/auth/totp_store.h"

#include <sodium.h>

#include "api/auth/authenticator.h"
#include "api/auth/credential_store.h"

namespace rmm::api::auth_store {
namespace {

std::string hex_of(const std::vector<std::uint8_t>& bytes) {
  std::string hex(bytes.size() * 2, '\0');
  sodium_bin2hex(hex.data(), hex.size() + 1, bytes.data(), bytes.size());
  return hex;
}

std::vector<std::uint8_t> bytes_of(std::string_view hex) {
  std::vector<std::uint8_t> out(hex.size() / 2);
  std::size_t len = 0;
  if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0) {
    return {};
  }
  out.resize(len);
  return out;
}

}  // namespace

std::optional<TotpState> totp_of(pqxx::transaction_base& tx, const UserId& user, bool lock) {
  auto rows = tx.exec_params(std::string(R"sql(
    SELECT encode(secret, 'hex'), confirmed_at IS NOT NULL, last_step
      FROM auth.totp WHERE user_id = $1::uuid)sql") +
                                 (lock ? " FOR UPDATE" : ""),
                             user.str());
  if (rows.empty()) return std::nullopt;
  return TotpState{bytes_of(rows[0][0].c_str()), rows[0][1].as<bool>(),
                   rows[0][2].as<std::int64_t>()};
}

void put_unconfirmed_totp(pqxx::transaction_base& tx, const UserId& user,
                          const std::vector<std::uint8_t>& secret, UnixNanos now) {
  tx.exec_params("DELETE FROM auth.totp_recovery_codes WHERE user_id = $1::uuid", user.str());
  tx.exec_params(R"sql(
    INSERT INTO auth.totp (user_id, secret, created_at, confirmed_at, last_step)
    VALUES ($1::uuid, decode($2, 'hex'), to_timestamp($3::double precision), NULL, -1)
    ON CONFLICT (user_id) DO UPDATE
      SET secret = EXCLUDED.secret, created_at = EXCLUDED.created_at, confirmed_at = NULL,
          last_step = -1)sql",
                 user.str(), hex_of(secret), pg_seconds(now));
}

void confirm_totp(pqxx::transaction_base& tx, const UserId& user, std::int64_t step,
                  const std::vector<std::string>& recovery_hashes_hex, UnixNanos now) {
  tx.exec_params(R"sql(
    UPDATE auth.totp SET confirmed_at = to_timestamp($2::double precision), last_step = $3
     WHERE user_id = $1::uuid)sql",
                 user.str(), pg_seconds(now), step);
  tx.exec_params("DELETE FROM auth.totp_recovery_codes WHERE user_id = $1::uuid", user.str());
  for (const auto& hash : recovery_hashes_hex) {
    tx.exec_params(R"sql(
      INSERT INTO auth.totp_recovery_codes (user_id, code_hash) VALUES ($1::uuid, decode($2, 'hex'))
      ON CONFLICT DO NOTHING)sql",
                   user.str(), hash);
  }
}

void accept_step(pqxx::transaction_base& tx, const UserId& user, std::int64_t step) {
  tx.exec_params(
      "UPDATE auth.totp SET last_step = GREATEST(last_step, $2) WHERE user_id = $1::uuid",
      user.str(), step);
}

void delete_totp(pqxx::transaction_base& tx, const UserId& user) {
  tx.exec_params("DELETE FROM auth.totp_recovery_codes WHERE user_id = $1::uuid", user.str());
  tx.exec_params("DELETE FROM auth.totp WHERE user_id = $1::uuid", user.str());
}

bool use_recovery_code(pqxx::transaction_base& tx, const UserId& user,
                       std::string_view code_hash_hex, UnixNanos now) {
  auto rows = tx.exec_params(R"sql(
    UPDATE auth.totp_recovery_codes SET used_at = to_timestamp($3::double precision)
     WHERE user_id = $1::uuid AND code_hash = decode($2, 'hex') AND used_at IS NULL
    RETURNING 1)sql",
                             user.str(), std::string(code_hash_hex), pg_seconds(now));
  return !rows.empty();
}

int recovery_codes_left(pqxx::transaction_base& tx, const UserId& user) {
  auto rows = tx.exec_params(
      "SELECT count(*) FROM auth.totp_recovery_codes WHERE user_id = $1::uuid AND used_at IS NULL",
      user.str());
  return rows[0][0].as<int>();
}

void create_pending(pqxx::transaction_base& tx, std::string_view token, const UserId& user,
                    std::string_view source, bool enroll, UnixNanos now, UnixNanos expires_at) {
  tx.exec_params(
      "DELETE FROM auth.pending_logins WHERE expires_at < to_timestamp($1::double precision)",
      pg_seconds(now));
  tx.exec_params(R"sql(
    INSERT INTO auth.pending_logins (token_hash, user_id, source, enroll, expires_at)
    VALUES (decode($1, 'hex'), $2::uuid, $3, $4, to_timestamp($5::double precision)))sql",
                 Authenticator::token_hash_hex(token), user.str(), std::string(source), enroll,
                 pg_seconds(expires_at));
}

std::optional<PendingLogin> pending_of(pqxx::transaction_base& tx, std::string_view token,
                                       UnixNanos now) {
  auto rows = tx.exec_params(R"sql(
    SELECT user_id::text, source, enroll, attempts FROM auth.pending_logins
     WHERE token_hash = decode($1, 'hex') AND expires_at > to_timestamp($2::double precision)
       FOR UPDATE)sql",
                             Authenticator::token_hash_hex(token), pg_seconds(now));
  if (rows.empty()) return std::nullopt;
  auto id = UserId::parse(rows[0][0].c_str());
  if (!id) return std::nullopt;
  return PendingLogin{*id, rows[0][1].c_str(), rows[0][2].as<bool>(), rows[0][3].as<int>()};
}

void count_pending_attempt(pqxx::transaction_base& tx, std::string_view token) {
  tx.exec_params(
      "UPDATE auth.pending_logins SET attempts = attempts + 1 WHERE token_hash = decode($1, 'hex')",
      Authenticator::token_hash_hex(token));
}

void delete_pending(pqxx::transaction_base& tx, std::string_view token) {
  tx.exec_params("DELETE FROM auth.pending_logins WHERE token_hash = decode($1, 'hex')",
                 Authenticator::token_hash_hex(token));
}

}  // namespace rmm::api::auth_store
