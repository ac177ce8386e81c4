// What the API benchmarks share: a throwaway PostgreSQL and nats-server (the test fixtures), the
// read models seeded with N agents over 20 clients x 5 sites (latest metrics with two
// filesystems each, an active alert on every 20th agent), two users who may sign in ("owner",
// and "tech", scoped to one client: 1/20 of the agents), and rmm-api in-process.
//
// Concurrency: one owner thread; the App serves on its own threads.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "api/app.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/postgres.h"

namespace rmm::bench {

// The password of both seeded users.
inline constexpr const char* kBenchPassword = "bench password 1";

class ApiBenchStack {
 public:
  // Starts the servers, seeds `agents` agents and starts rmm-api with `tweak` applied to its
  // configuration (listen port, database, broker and web dir are set before). Throws
  // std::runtime_error on any failure.
  explicit ApiBenchStack(int agents, std::function<void(api::ApiConfig&)> tweak = {});
  ~ApiBenchStack();

  int port() const { return app_->port(); }
  // POST /api/v1/auth/login as `user`; the session token. Throws when not 200.
  std::string login(const std::string& user) const;

 private:
  test::PostgresFixture pg_;
  std::unique_ptr<test::NatsServerFixture> nats_;
  std::unique_ptr<api::App> app_;
};

}  // namespace rmm::bench
