#include "api/install/install_routes.h"

#include <fmt/format.h>

#include <fstream>
#include <iterator>

#include "admin/tenancy/enrollment_codes.h"
#include "admin/tenancy/read_model.h"
#include "api/install/install_script.h"
#include "api/install/key_pin.h"
#include "api/intents/json_input.h"
#include "api/problem.h"
#include "common/files.h"
#include "common/log.h"

namespace rmm::api::install {
namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t kMaxPackageBytes = 512u << 20;

}  // namespace

Response installer_response(http::status status, std::string body, const Request& req,
                            std::string_view type, std::string_view attachment) {
  Response res{status, req.version()};
  res.set(http::field::content_type, type);
  if (!attachment.empty()) {
    res.set(http::field::content_disposition,
            fmt::format("attachment; filename=\"{}\"", attachment));
  }
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

InstallRoutes::InstallRoutes(InstallOptions options, PgPool& read, PgPool& auth, const Clock& clock)
    : options_(std::move(options)),
      read_(read),
      clock_(clock),
      packages_(options_.packages_dir),
      sources_(auth, clock, "enroll_code", options_.per_source) {}

void InstallRoutes::register_routes(Router& router) {
  auto bind = [this](Response (InstallRoutes::*fn)(const Request&, const RequestContext&)) {
    return
        [this, fn](const Request& req, const RequestContext& ctx) { return (this->*fn)(req, ctx); };
  };
  router.add(http::verb::get, "/install/linux.sh", Access::open(), bind(&InstallRoutes::script));
  router.add(http::verb::get, "/install/enroll.creds", Access::open(),
             bind(&InstallRoutes::enroll_creds));
  router.add(http::verb::get, "/install/packages/{file}", Access::open(),
             bind(&InstallRoutes::package));
}

std::string InstallRoutes::api_url() const {
  std::string url = options_.public_url;
  if (url.empty() && options_.public_url_fallback) url = options_.public_url_fallback();
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

Result<std::string> InstallRoutes::api_pin() const {
  // No certificate of its own: TLS ends at a reverse proxy, checked against the system's CAs.
  if (options_.tls_cert.empty()) return std::string();
  auto pin = public_key_pin(options_.tls_cert);
  if (!pin) return std::unexpected(with_context(pin.error(), "setting 'tls-cert'"));
  return pin;
}

Result<std::string> InstallRoutes::render() {
  if (options_.enroll_creds.empty()) {
    return fail("agent installs need enroll-home (the enrollment credential)");
  }
  ScriptInputs in{.api_url = api_url(), .nats_url = options_.public_nats_url};
  if (in.api_url.starts_with("https://")) {
    auto pin = api_pin();
    if (!pin) return std::unexpected(pin.error());
    in.api_pin = std::move(*pin);
  }
  if (!options_.ca_file.empty()) {
    auto ca = files::read_all(options_.ca_file);
    if (!ca) return std::unexpected(with_context(ca.error(), "setting 'install-ca-file'"));
    in.ca_pem = std::move(*ca);
  }
  auto packages = packages_.current();
  if (!packages) return std::unexpected(packages.error());
  if (packages->empty()) {
    return failf("no gururmm-agent_<version>_<arch>.deb in agent-packages-dir {}",
                 options_.packages_dir.string());
  }
  in.packages = std::move(*packages);
  return render_linux_script(in);
}

Result<std::string> InstallRoutes::enrollment_credential() const {
  if (options_.enroll_creds.empty()) {
    return fail(Error::Code::kNotFound, "this server does not enroll agents (no enroll-home)");
  }
  return files::read_all(options_.enroll_creds);
}

Result<std::string> InstallRoutes::linux_line(std::string_view code) {
  auto script = render();
  if (!script) return std::unexpected(script.error());
  LineInputs in{.api_url = api_url(),
                .script_sha256 = tenancy::sha256_hex(*script),
                .code = std::string(code)};
  if (in.api_url.starts_with("https://")) {
    auto pin = api_pin();
    if (!pin) return std::unexpected(pin.error());
    in.key_pin = std::move(*pin);
  }
  return linux_install_line(in);
}

Response InstallRoutes::script(const Request& req, const RequestContext& ctx) {
  auto script = render();
  if (!script) {
    log::warn("install.script_unavailable",
              {{"correlation_id", ctx.correlation_id}, {"error", script.error().message}});
    return installer_response(
        http::status::service_unavailable,
        "echo 'gururmm: this server cannot install agents now (see its log)' >&2; exit 1\n", req);
  }
  return installer_response(http::status::ok, std::move(*script), req,
                            "text/x-shellscript; charset=utf-8");
}

Response InstallRoutes::enroll_creds(const Request& req, const RequestContext& ctx) {
  const std::string source = login_source(ctx.remote, req, options_.trusted_proxies);
  std::chrono::seconds retry{1};
  auto taken = sources_.take(source, retry);
  if (!taken) {
    log::error("install.source_check_failed",
               {{"correlation_id", ctx.correlation_id}, {"error", taken.error().message}});
    return installer_response(http::status::service_unavailable,
                              "the server cannot check enrollment codes now: retry later\n", req);
  }
  if (!*taken) {
    auto res = installer_response(
        http::status::too_many_requests,
        fmt::format("too many enrollment attempts from this address: retry in {} s\n",
                    std::max<std::int64_t>(retry.count(), 1)),
        req);
    res.set(http::field::retry_after, std::to_string(std::max<std::int64_t>(retry.count(), 1)));
    return res;
  }
  if (options_.enroll_creds.empty()) {
    return installer_response(http::status::service_unavailable,
                              "this server does not enroll agents (no enroll-home)\n", req);
  }
  auto header = req.find(kCodeHeader);
  std::string_view given;
  if (header != req.end()) given = std::string_view(header->value().data(), header->value().size());
  auto unknown = [&] {
    log::info(
        "install.code_refused",
        {{"correlation_id", ctx.correlation_id}, {"source", source}, {"reason", "unknown_code"}});
    return installer_response(
        http::status::forbidden,
        "unknown enrollment code: check the install line, or ask for a new one\n", req);
  };
  auto normalised = tenancy::normalise_enrollment_code(given);
  if (!normalised) return unknown();
  const std::string hash = tenancy::enrollment_code_hash(*normalised);
  auto code = read_.run(PgPool::Retry::kOnce, [&](pqxx::connection& c) {
    tenancy::TenancyReadModel model(c);
    return model.find_code_by_hash(hash);
  });
  if (!code) {
    log::error("install.code_check_failed",
               {{"correlation_id", ctx.correlation_id}, {"error", code.error().message}});
    return installer_response(http::status::service_unavailable,
                              "the server cannot check enrollment codes now: retry later\n", req);
  }
  if (!*code) return unknown();
  const auto& row = **code;
  auto refused = [&](std::string_view reason, std::string message) {
    log::info("install.code_refused", {{"correlation_id", ctx.correlation_id},
                                       {"source", source},
                                       {"code_id", row.id.str()},
                                       {"reason", reason}});
    return installer_response(http::status::gone, std::move(message), req);
  };
  if (row.revoked) {
    return refused("code_revoked",
                   "this enrollment code was revoked: ask for a new install line\n");
  }
  if (row.expires_at <= clock_.now()) {
    return refused("code_expired",
                   fmt::format("this enrollment code expired at {}: ask for a new install line\n",
                               intents::format_rfc3339(row.expires_at)));
  }
  auto creds = enrollment_credential();
  if (!creds) {
    log::error("install.enroll_creds_unreadable",
               {{"correlation_id", ctx.correlation_id}, {"error", creds.error().message}});
    return installer_response(
        http::status::service_unavailable,
        "the server cannot hand out the enrollment credential now: retry later\n", req);
  }
  sources_.give_back(source);
  log::info(
      "install.enroll_creds_given",
      {{"correlation_id", ctx.correlation_id}, {"code_id", row.id.str()}, {"source", source}});
  return installer_response(http::status::ok, std::move(*creds), req, "application/octet-stream");
}

Response InstallRoutes::package(const Request& req, const RequestContext& ctx) {
  const std::string name(ctx.param("file"));
  auto not_found = [&] {
    return installer_response(http::status::not_found, "no such package\n", req);
  };
  if (!is_package_file_name(name)) return not_found();
  const fs::path file = options_.packages_dir / name;
  std::error_code ec;
  auto status = fs::symlink_status(file, ec);
  if (ec || !fs::is_regular_file(status)) return not_found();
  auto size = fs::file_size(file, ec);
  if (ec || size > kMaxPackageBytes) return not_found();
  std::ifstream in(file, std::ios::binary);
  std::string body{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (!in.good() && !in.eof()) return internal_error(ctx, req.version());
  return installer_response(http::status::ok, std::move(body), req,
                            "application/vnd.debian.binary-package");
}

}  // namespace rmm::api::install
