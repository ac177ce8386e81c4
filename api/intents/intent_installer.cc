// GET /api/v1/sites/{id}/installer?platform=windows|linux[&expires_in_s=]: a new enrollment code
// for the site, handed out inside its installer. Like POST /enrollment-codes (same visibility,
// role and event, so the code's creation is in the log with its hash, never the code): windows
// answers a copy of the generic MSI with the site's properties (api/install/windows_installer.h)
// and the shared enrollment credential /install/enroll.creds serves, linux the one-line install
// command as text. What the installation lacks is checked before a code is made, so a refusal
// leaves no code behind.
#include <fmt/format.h>

#include <charconv>

#include "admin/tenancy/enrollment_codes.h"
#include "admin/tenancy/intents.h"
#include "api/install/install_routes.h"
#include "api/intents/intent_routes.h"
#include "api/intents/json_input.h"
#include "api/intents/reply.h"
#include "api/problem.h"
#include "api/server/query.h"
#include "common/log.h"

namespace rmm::api::intents {
namespace {

// How long the answer waits for the code to be projected, so it enrolls (and is listed) by the
// time the file is on disk.
constexpr std::chrono::milliseconds kProjectWait{5000};

Result<std::int64_t> ttl_param(const Request& req) {
  auto text = query_param(req, "expires_in_s");
  if (!text) return kDefaultCodeTtlS;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size() || v < kMinCodeTtlS ||
      v > kMaxCodeTtlS) {
    return invalid(
        fmt::format("'expires_in_s' must be an integer from {} to {}", kMinCodeTtlS, kMaxCodeTtlS));
  }
  return v;
}

Response unavailable(const Request& req, const RequestContext& ctx, std::string_view event,
                     const std::string& detail, const Error& cause) {
  log::warn(event, {{"correlation_id", ctx.correlation_id}, {"error", cause.message}});
  return make_problem(http::status::service_unavailable, detail, ctx, req.version());
}

}  // namespace

Response IntentRoutes::site_installer(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  const auto platform = query_param(req, "platform");
  if (!platform || (*platform != "windows" && *platform != "linux")) {
    return problem_for(Error{Error::Code::kInvalidInput, "'platform' must be windows or linux"},
                       req, ctx);
  }
  auto ttl = ttl_param(req);
  if (!ttl) return problem_for(ttl.error(), req, ctx);
  auto site = path_id<SiteId>(ctx, "id");
  if (!site) return problem_for(site.error(), req, ctx);
  if (auto s = lookups_.site(p, *site); !s) return problem_for(s.error(), req, ctx);
  if (auto r = need_role(p, schema::UserRole::Admin); !r) return problem_for(r.error(), req, ctx);

  const bool windows = *platform == "windows";
  std::optional<install::GenericMsi> msi;
  std::string creds;  // a secret: never logged
  if (windows) {
    if (d_.windows_installer == nullptr) {
      return make_problem(http::status::service_unavailable,
                          "this server offers no Windows installer", ctx, req.version());
    }
    auto generic = d_.windows_installer->generic();
    if (!generic) {
      return unavailable(
          req, ctx, "intent.installer_unavailable", generic.error().message,
          Error{generic.error().code,
                fmt::format("{} (windows-installer-dir {}, msibuild {})", generic.error().message,
                            d_.windows_installer->options().dir.string(),
                            d_.windows_installer->options().msibuild.string())});
    }
    msi = std::move(*generic);
    // Without it the installed agent could not enroll: refuse before a code is made.
    Result<std::string> credential =
        fail(Error::Code::kNotFound, "no enrollment credential (no enroll-home)");
    if (d_.enroll_creds) credential = d_.enroll_creds();
    if (!credential) {
      return unavailable(req, ctx, "intent.installer_unavailable",
                         "this server cannot install Windows agents now (no enrollment "
                         "credential; see its log)",
                         credential.error());
    }
    creds = std::move(*credential);
  } else {
    if (!d_.install_line) {
      return make_problem(http::status::service_unavailable,
                          "this server offers no Linux install line", ctx, req.version());
    }
    // The line for a code that is never stored: does the installation have what it needs?
    if (auto line = d_.install_line(tenancy::generate_enrollment_code()); !line) {
      return unavailable(req, ctx, "intent.install_line_unavailable",
                         "this server cannot install Linux agents now (no agent package or "
                         "enrollment credential; see its log)",
                         line.error());
    }
  }

  tenancy::Intents intents(d_.publisher.control(), nullptr, d_.clock);
  intents.set_impersonator(p.actor().impersonator);
  auto created = intents.create_enrollment_code(*site, std::chrono::seconds(*ttl), p.actor().actor);
  if (!created) return problem_for(from_tenancy(created.error()), req, ctx);
  auto applied = wait_projected(d_.read, created->stream_seq, kProjectWait);
  if (!applied || !*applied) {
    log::warn("intent.installer_code_not_projected",
              {{"correlation_id", ctx.correlation_id}, {"code_id", created->id.str()}});
  }

  Response res;
  if (windows) {
    auto bytes = d_.windows_installer->site_copy(*msi, created->code, creds);
    if (!bytes) {
      log::error("intent.installer_failed", {{"correlation_id", ctx.correlation_id},
                                             {"code_id", created->id.str()},
                                             {"error", bytes.error().message}});
      return make_problem(http::status::service_unavailable,
                          "the server could not make the Windows installer; quote the "
                          "correlation id to its operator",
                          ctx, req.version());
    }
    res = install::installer_response(
        http::status::ok, std::move(*bytes), req, "application/x-msi",
        fmt::format("gururmm-agent-{}-x64-site-{}.msi", msi->version, site->str()));
  } else {
    auto line = d_.install_line(created->code);
    if (!line) {
      return unavailable(req, ctx, "intent.install_line_unavailable",
                         "this server cannot install Linux agents now (see its log)", line.error());
    }
    res = install::installer_response(http::status::ok, *line + "\n", req);
  }
  res.set("X-Enrollment-Code-Id", created->id.str());
  res.set("X-Enrollment-Code-Expires", format_rfc3339(created->expires_at));
  log::info("intent.installer_made", {{"correlation_id", ctx.correlation_id},
                                      {"site_id", site->str()},
                                      {"code_id", created->id.str()},
                                      {"platform", *platform}});
  return res;
}

}  // namespace rmm::api::intents
