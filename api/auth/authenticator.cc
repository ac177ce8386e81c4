#include "api/auth/authenticator.h"

#include <sodium.h>

#include <pqxx/pqxx>

#include "api/auth/credential_store.h"
#include "api/db/sql_params.h"
#include "api/server/query.h"
#include "common/log.h"

namespace rmm::api {
namespace {

constexpr std::size_t kTokenChars = 43;  // 32 bytes, unpadded base64url

// The acting user (impersonated target, else the session's user); the session's own user must
// still hold a credential and neither may be disabled; an impersonation session also needs the
// owner's session it was started from to be live (a parent that is gone joins as NULLs: refused).
// Sessions valid at $2 (see above); the caller's query adds which ones.
constexpr std::string_view kValidSessions = R"sql(
    FROM auth.sessions s
    JOIN auth.credentials c ON c.user_id = s.user_id
    JOIN users o ON o.id = s.user_id AND NOT o.disabled
    JOIN users u ON u.id = COALESCE(s.acting_as_user_id, s.user_id) AND NOT u.disabled
    LEFT JOIN auth.sessions ps ON ps.token_hash = s.parent_token_hash
   WHERE s.revoked_at IS NULL
     AND s.expires_at > to_timestamp($2::double precision)
     AND (s.parent_token_hash IS NULL
          OR (ps.revoked_at IS NULL AND ps.expires_at > to_timestamp($2::double precision))))sql";

// $1 the token's hash.
const std::string& session_sql() {
  static const std::string sql = std::string(R"sql(
  SELECT u.id::text, u.username, u.display_name, u.role,
         COALESCE((SELECT string_agg(us.scope || ':' || us.scope_id::text, ',')
                     FROM user_scopes us WHERE us.user_id = u.id), ''),
         CASE WHEN s.acting_as_user_id IS NOT NULL THEN s.user_id::text ELSE '' END)sql") +
                                 std::string(kValidSessions) +
                                 " AND s.token_hash = decode($1, 'hex')";
  return sql;
}

// $1 a text[] of token hashes.
const std::string& valid_among_sql() {
  static const std::string sql = "SELECT encode(s.token_hash, 'hex')" +
                                 std::string(kValidSessions) +
                                 " AND s.token_hash IN (SELECT decode(h, 'hex') FROM "
                                 "unnest($1::text[]) AS h)";
  return sql;
}

bool is_base64url(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

Result<std::vector<codec::ScopeRef>> parse_scopes(std::string_view text) {
  std::vector<codec::ScopeRef> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    auto colon = item.find(':');
    if (colon == std::string_view::npos) return fail("malformed scope row");
    auto scope = codec::scope_from_name(item.substr(0, colon));
    auto id = uuid_from_string(item.substr(colon + 1));
    if (!scope || !id) return fail("malformed scope row");
    out.push_back(codec::ScopeRef{*scope, *id});
  }
  return out;
}

}  // namespace

std::optional<std::string> Authenticator::token_of(const Request& req) {
  auto it = req.find(http::field::authorization);
  if (it != req.end()) {
    std::string_view v(it->value().data(), it->value().size());
    constexpr std::string_view kBearer = "Bearer ";
    if (v.size() > kBearer.size() && (v.starts_with(kBearer) || v.starts_with("bearer "))) {
      return std::string(v.substr(kBearer.size()));
    }
    return std::nullopt;
  }
  return query_param(req, "access_token");
}

std::string Authenticator::token_hash_hex(std::string_view token) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(sizeof digest * 2);
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

Result<Principal> Authenticator::authenticate(const Request& req) const {
  auto token = token_of(req);
  if (!token && tickets_ != nullptr) {
    // Only the live stream takes a ticket: it is what EventSource cannot send a header for.
    std::string_view target(req.target().data(), req.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    auto ticket = path == "/api/v1/live" ? query_param(req, "ticket") : std::nullopt;
    if (ticket) {
      auto session = tickets_->redeem(*ticket);
      if (!session) return std::unexpected(session.error());
      try {
        return pool_.run(PgPool::Retry::kOnce, [&](pqxx::connection& c) {
          pqxx::nontransaction tx(c);
          return lookup_hash(tx, *session, clock_.now());
        });
      } catch (const std::exception& e) {
        return fail(Error::Code::kTimeout, std::string("session lookup failed: ") + e.what());
      }
    }
  }
  if (!token) return fail(Error::Code::kInvalidInput, "no bearer token");
  if (token->size() != kTokenChars || !is_base64url(*token)) {
    return fail(Error::Code::kInvalidInput, "malformed token");
  }
  try {
    // One statement: no explicit transaction (saves the BEGIN and COMMIT round trips).
    return pool_.run(PgPool::Retry::kOnce, [&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      return lookup(tx, *token, clock_.now());
    });
  } catch (const std::exception& e) {
    return fail(Error::Code::kTimeout, std::string("session lookup failed: ") + e.what());
  }
}

Result<Principal> Authenticator::lookup(pqxx::transaction_base& tx, std::string_view token,
                                        UnixNanos now) {
  return lookup_hash(tx, token_hash_hex(token), now);
}

Result<Principal> Authenticator::lookup_hash(pqxx::transaction_base& tx, std::string hash,
                                             UnixNanos now) {
  SqlParams p;
  p.bind(hash);
  p.bind(auth_store::pg_seconds(now));
  pqxx::result rows = p.exec_prepared(tx, session_sql());
  if (rows.empty()) return fail(Error::Code::kNotFound, "unknown, expired or revoked session");

  const auto& row = rows[0];
  Principal pr;
  auto user = UserId::parse(row[0].c_str());
  auto role = codec::role_from_name(row[3].c_str());
  auto scopes = parse_scopes(row[4].c_str());
  if (!user || !role || !scopes) return fail(Error::Code::kNotFound, "malformed user row");
  pr.user = *user;
  pr.username = row[1].c_str();
  pr.display_name = row[2].c_str();
  pr.role = *role;
  pr.scopes = std::move(*scopes);
  pr.session = std::move(hash);
  if (std::string_view owner = row[5].c_str(); !owner.empty()) {
    auto id = UserId::parse(owner);
    if (!id) return fail(Error::Code::kNotFound, "malformed session row");
    pr.impersonator = *id;
  }
  return pr;
}

std::set<std::string> Authenticator::valid_sessions(pqxx::transaction_base& tx,
                                                    const std::set<std::string>& hashes,
                                                    UnixNanos now) {
  std::set<std::string> out;
  if (hashes.empty()) return out;
  const std::vector<std::string> list(hashes.begin(), hashes.end());
  for (const auto& row :
       tx.exec_params(valid_among_sql(), array_literal(list), auth_store::pg_seconds(now))) {
    out.emplace(row[0].c_str());
  }
  return out;
}

}  // namespace rmm::api
