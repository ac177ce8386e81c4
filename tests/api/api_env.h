// A running rmm-api (in-process App) over a fresh database with the projector's schema
// (migrations 0001-0005, 0007, 0013-0015, 0017) and the shared test nats-server, plus helpers to
// seed users and sign in. Shared by the auth, reads, tenancy-matrix and intents tests.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/app.h"
#include "common/clock.h"
#include "tests/fixtures/http_client.h"

namespace rmm::test {

class PostgresFixture;

class ApiEnv {
 public:
  // `prefix` names the database; `clock` drives session expiry, lockout and online status.
  explicit ApiEnv(std::string_view prefix, const Clock& clock = real_clock(),
                  std::function<void(api::ApiConfig&)> tweak = {});
  // The same on a cluster of the test's own (one it may stop and restart).
  ApiEnv(PostgresFixture& pg, std::string_view prefix, const Clock& clock = real_clock(),
         std::function<void(api::ApiConfig&)> tweak = {});
  ~ApiEnv();

  int port() const { return app_->port(); }
  api::App& app() { return *app_; }
  const std::string& pg_url() const { return pg_url_; }
  // Runs SQL (read-write, autocommit) on the test database.
  void exec(const std::string& sql) const;

  // Inserts an enabled user (users, user_scopes, auth.credentials) directly; returns its id.
  // scopes: {"client", "<uuid>"}, {"site", "<uuid>"}, {"global", nil}.
  std::string add_user(const std::string& username, const std::string& role,
                       const std::vector<std::pair<std::string, std::string>>& scopes,
                       const std::string& password = "correct horse battery");
  // POST /api/v1/auth/login; REQUIREs 200; returns the token.
  std::string login(const std::string& username,
                    const std::string& password = "correct horse battery") const;

  HttpResponse get(const std::string& target, const std::string& token) const;
  HttpResponse send(const std::string& method, const std::string& target, const std::string& token,
                    const std::string& body = {}) const;

 private:
  std::string pg_url_;
  std::unique_ptr<api::App> app_;
};

boost::json::object parse_object(const std::string& body);
// REQUIREs a problem document of `status` whose correlation id matches the header.
void check_problem(const HttpResponse& res, int status);
// The nil uuid, for global scopes.
inline constexpr const char* kNilUuid = "00000000-0000-0000-0000-000000000000";

}  // namespace rmm::test
