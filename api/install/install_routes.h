// The agent installer's routes (docs/enrollment.md), all without sign-in:
//   GET /install/linux.sh            the installer script (install_script.h) for this installation
//   GET /install/enroll.creds        the shared enrollment credential, for a valid code given in
//                                    the X-Enrollment-Code header; else a plain-text message
//   GET /install/packages/{file}     an agent package from agent-packages-dir
// and the one-line install command that POST /api/v1/enrollment-codes answers with.
//
// The /install answers are text/plain (a shell script reads them), not problem+json.
// Every enroll.creds request takes a token of its source address's bucket (api/auth/
// source_limiter.h, shared by every rmm-api) and a successful one gives it back, so guessing codes
// is bounded per address. The code is never
// logged.
//
// Concurrency: handlers are thread-safe (PostgreSQL through the pool, the package cache locked).
// Limitations: the script's SHA-256 is pinned by the line when the code is made; a new package, a
// new CA or new URLs make older lines refuse to run (ask for a new code).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/auth/login_source.h"
#include "api/auth/source_limiter.h"
#include "api/db/pg_pool.h"
#include "api/install/agent_packages.h"
#include "api/server/router.h"
#include "common/clock.h"

namespace rmm::api::install {

inline constexpr std::string_view kCodeHeader = "X-Enrollment-Code";

// An installer answer (these routes', and the site installer's): it may hold an enrollment code
// or credential, so no cache keeps it and no browser sniffs its type. A non-empty `attachment`
// is the file name it is saved under.
Response installer_response(http::status status, std::string body, const Request& req,
                            std::string_view type = "text/plain; charset=utf-8",
                            std::string_view attachment = {});

struct InstallOptions {
  // rmm-api's public URL; empty: derived from the listen address (public_url_fallback).
  std::string public_url;
  std::function<std::string()> public_url_fallback;
  std::string public_nats_url;
  std::filesystem::path ca_file;       // embedded in the script; empty: none (plaintext broker)
  std::filesystem::path tls_cert;      // rmm-api's certificate, for the key pin; empty: plain HTTP
  std::filesystem::path enroll_creds;  // <enroll-home>/nats/enroll.creds; empty: installs off
  std::filesystem::path packages_dir;
  std::vector<boost::asio::ip::address> trusted_proxies;
  SourceLimiter::Options per_source;
};

class InstallRoutes {
 public:
  // `read` the read models; `auth` read-write (the per-source buckets, auth.source_buckets).
  InstallRoutes(InstallOptions options, PgPool& read, PgPool& auth, const Clock& clock);

  void register_routes(Router& router);

  Response script(const Request& req, const RequestContext& ctx);
  Response enroll_creds(const Request& req, const RequestContext& ctx);
  Response package(const Request& req, const RequestContext& ctx);

  // The shared enrollment credential, the text of enroll-home's enroll.creds, exactly as
  // /install/enroll.creds hands it out (a site's Windows installer carries it too). Errors: no
  // enroll-home, or the file cannot be read. A secret: never logged.
  Result<std::string> enrollment_credential() const;

  // The `install` object of a created enrollment code: {"linux": "<line>"}; an error when the
  // installation cannot offer one (no enroll-home, no package, a bad setting): said in the log,
  // and the code is answered without it.
  Result<std::string> linux_line(std::string_view code);

 private:
  std::string api_url() const;
  // The pin of tls-cert's key; "" without a certificate of rmm-api's own.
  Result<std::string> api_pin() const;
  Result<std::string> render();

  InstallOptions options_;
  PgPool& read_;
  const Clock& clock_;
  AgentPackages packages_;
  SourceLimiter sources_;
};

}  // namespace rmm::api::install
