// GET /api/v1/command-batches/{id}: the commands of one bulk request, one per agent (issue 18).
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "api/auth/principal.h"
#include "api/db/sql_params.h"
#include "api/problem.h"
#include "api/routes/json_reply.h"
#include "api/routes/read_routes.h"

namespace rmm::api {
namespace {

// A batch lists every agent's output at once: each stream is cut here (the command's own page
// has all of it), so a 1,000-agent batch stays a small answer.
constexpr int kBatchOutputChars = 4000;

}  // namespace

Response ReadRoutes::command_batch(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_statement(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto id = uuid_path(ctx, "id");
    if (!id) return std::unexpected(id.error());
    SqlParams p;
    const std::string cut = std::to_string(kBatchOutputChars);
    std::string sql =
        "SELECT cm.id::text, cm.agent_id::text, a.hostname, cm.kind, cm.summary, cm.status, "
        "cm.issuer, " +
        sql_us("cm.issued_at") + ", " + sql_us("cm.finished_at") +
        ", cm.exit_code, cm.reason, left(cm.stdout, " + cut + "), left(cm.stderr, " + cut +
        "), (cm.stdout_truncated OR length(cm.stdout) > " + cut +
        "), (cm.stderr_truncated OR length(cm.stderr) > " + cut +
        ") FROM commands cm LEFT JOIN agents a ON a.id = cm.agent_id"
        " LEFT JOIN sites s ON s.id = a.site_id WHERE cm.batch_id = " +
        p.bind(*id) + "::uuid AND " + pr.visible_sql(p, "s.client_id", "a.site_id") +
        " ORDER BY a.hostname NULLS LAST, cm.agent_id";
    auto rows = p.exec(tx, sql);
    if (rows.empty()) return fail(Error::Code::kNotFound, "command batch");
    boost::json::array items;
    for (const auto& r : rows) {
      items.push_back(boost::json::object{
          {"id", json_text(r[0])},
          {"agent_id", json_text(r[1])},
          {"hostname", json_text(r[2])},
          {"kind", json_text(r[3])},
          {"summary", json_text(r[4])},
          {"status", json_text(r[5])},
          {"issuer", json_text(r[6])},
          {"issued_at", json_time_us(r[7])},
          {"finished_at", json_time_us(r[8])},
          {"exit_code", json_int(r[9])},
          {"reason", json_text(r[10])},
          {"stdout", json_text(r[11])},
          {"stderr", json_text(r[12])},
          {"stdout_truncated", r[13].as<bool>()},
          {"stderr_truncated", r[14].as<bool>()},
      });
    }
    return json_response(req, boost::json::object{{"id", *id}, {"items", std::move(items)}});
  });
}

}  // namespace rmm::api
