#include "api/auth/oidc/oidc_store.h"

#include <sodium.h>

#include "api/auth/credential_store.h"

namespace rmm::api::oidc_store {
namespace {

std::string state_hash_hex(std::string_view state) {
  unsigned char hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(hash, reinterpret_cast<const unsigned char*>(state.data()), state.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return hex;
}

}  // namespace

std::int64_t purge_and_count_pending(pqxx::transaction_base& tx, UnixNanos now) {
  tx.exec_params(
      "DELETE FROM auth.oidc_pending WHERE expires_at <= to_timestamp($1::double precision)",
      auth_store::pg_seconds(now));
  return tx.exec("SELECT count(*) FROM auth.oidc_pending")[0][0].as<std::int64_t>();
}

void put_pending(pqxx::transaction_base& tx, std::string_view state, const Pending& pending,
                 UnixNanos expires_at) {
  tx.exec_params(R"sql(
    INSERT INTO auth.oidc_pending (state_hash, code_verifier, nonce, expires_at)
    VALUES (decode($1, 'hex'), $2, $3, to_timestamp($4::double precision)))sql",
                 state_hash_hex(state), pending.code_verifier, pending.nonce,
                 auth_store::pg_seconds(expires_at));
}

std::optional<Pending> take_pending(pqxx::transaction_base& tx, std::string_view state,
                                    UnixNanos now) {
  auto rows = tx.exec_params(R"sql(
    DELETE FROM auth.oidc_pending WHERE state_hash = decode($1, 'hex')
    RETURNING code_verifier, nonce, expires_at > to_timestamp($2::double precision))sql",
                             state_hash_hex(state), auth_store::pg_seconds(now));
  if (rows.empty() || !rows[0][2].as<bool>()) return std::nullopt;
  return Pending{rows[0][0].c_str(), rows[0][1].c_str()};
}

std::optional<LinkedUser> linked_user(pqxx::transaction_base& tx, std::string_view issuer,
                                      std::string_view subject) {
  auto rows = tx.exec_params(R"sql(
    SELECT i.user_id::text, u.role FROM auth.oidc_identities i JOIN users u ON u.id = i.user_id
     WHERE i.issuer = $1 AND i.subject = $2 AND NOT u.disabled)sql",
                             std::string(issuer), std::string(subject));
  if (rows.empty()) return std::nullopt;
  auto id = UserId::parse(rows[0][0].c_str());
  auto role = codec::role_from_name(rows[0][1].c_str());
  if (!id || !role) return std::nullopt;
  return LinkedUser{*id, *role};
}

std::vector<Link> links_of(pqxx::transaction_base& tx, const UserId& user) {
  auto rows = tx.exec_params(R"sql(
    SELECT issuer, subject, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
      FROM auth.oidc_identities WHERE user_id = $1::uuid ORDER BY created_at LIMIT 100)sql",
                             user.str());
  std::vector<Link> out;
  for (const auto& r : rows) out.push_back({r[0].c_str(), r[1].c_str(), r[2].c_str()});
  return out;
}

void link(pqxx::transaction_base& tx, std::string_view issuer, std::string_view subject,
          const UserId& user, const UserId& by) {
  tx.exec_params(R"sql(
    INSERT INTO auth.oidc_identities (issuer, subject, user_id, linked_by)
    VALUES ($1, $2, $3::uuid, $4::uuid)
    ON CONFLICT (issuer, subject) DO UPDATE
      SET user_id = EXCLUDED.user_id, linked_by = EXCLUDED.linked_by, created_at = now())sql",
                 std::string(issuer), std::string(subject), user.str(), by.str());
}

std::int64_t unlink(pqxx::transaction_base& tx, std::string_view issuer, const UserId& user) {
  auto r =
      tx.exec_params("DELETE FROM auth.oidc_identities WHERE issuer = $1 AND user_id = $2::uuid",
                     std::string(issuer), user.str());
  return static_cast<std::int64_t>(r.affected_rows());
}

}  // namespace rmm::api::oidc_store
