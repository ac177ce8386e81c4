#include "api/auth/live_tickets.h"

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "api/auth/authenticator.h"
#include "api/auth/credential_store.h"
#include "api/auth/passwords.h"
#include "api/problem.h"
#include "api/routes/agents.h"
#include "api/routes/json_reply.h"
#include "common/log.h"

namespace rmm::api {
namespace {

constexpr std::size_t kTicketChars = 43;

bool well_formed(std::string_view t) {
  if (t.size() != kTicketChars) return false;
  for (char c : t) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Response LiveTickets::issue(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  const std::string ticket = new_session_token();
  const UnixNanos now = clock_.now();
  const UnixNanos expires =
      now + std::chrono::duration_cast<std::chrono::nanoseconds>(kLiveTicketTtl).count();
  try {
    pool_.run(PgPool::Retry::kOnce, [&](pqxx::connection& c) {
      pqxx::work tx(c);
      tx.exec_params0(
          "DELETE FROM auth.live_tickets WHERE expires_at < to_timestamp($1::double precision)",
          auth_store::pg_seconds(now));
      tx.exec_params0(
          "INSERT INTO auth.live_tickets (ticket_hash, token_hash, expires_at) VALUES "
          "(decode($1, 'hex'), decode($2, 'hex'), to_timestamp($3::double precision))",
          Authenticator::token_hash_hex(ticket), pr.session, auth_store::pg_seconds(expires));
      tx.commit();
      return true;
    });
  } catch (const std::exception& e) {
    log::error("live.ticket_failed", {{"error", e.what()}, {"correlation_id", ctx.correlation_id}});
    return make_problem(http::status::service_unavailable, "the database is unavailable", ctx,
                        req.version());
  }
  return json_response(req, boost::json::object{
                                {"ticket", ticket},
                                {"expires_at", format_rfc3339_utc(expires / 1000)},
                            });
}

Result<std::string> LiveTickets::redeem(std::string_view ticket) const {
  if (!well_formed(ticket)) return fail(Error::Code::kInvalidInput, "malformed ticket");
  try {
    return pool_.run(PgPool::Retry::kOnce, [&](pqxx::connection& c) -> Result<std::string> {
      pqxx::work tx(c);
      auto rows = tx.exec_params(
          "DELETE FROM auth.live_tickets WHERE ticket_hash = decode($1, 'hex') "
          "RETURNING encode(token_hash, 'hex'), expires_at > to_timestamp($2::double precision)",
          Authenticator::token_hash_hex(ticket), auth_store::pg_seconds(clock_.now()));
      tx.commit();
      if (rows.empty() || !rows[0][1].as<bool>()) {
        return fail(Error::Code::kNotFound, "unknown, used or expired ticket");
      }
      return std::string(rows[0][0].c_str());
    });
  } catch (const std::exception& e) {
    return fail(Error::Code::kTimeout, std::string("ticket lookup failed: ") + e.what());
  }
}

}  // namespace rmm::api
