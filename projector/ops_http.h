// rmm-projector's ops endpoint: GET /metrics (ProjectorStatus's exposition), /healthz (liveness:
// 200 while the main loop goes round) and /readyz (200 while this process owns the projection and
// reaches PostgreSQL; a standby answers 503); with --partitions also GET /units (units_report.h:
// every unit's owner, checkpoint, watermark and lag, as JSON). It reuses rmm-api's HTTP server and
// router (plain HTTP, counts only, no authentication), bound to http-host, 127.0.0.1 by default
// (docs/operations.md "Metrics").
//
// Concurrency: start()/stop() from the main thread; requests are served on the server's threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "api/server/api_server.h"
#include "api/server/router.h"
#include "common/result.h"
#include "projector/status.h"
#include "projector/units_report.h"

namespace rmm::projector {

class OpsHttp {
 public:
  // `units`: the partitioned projection's report, served at /units (none for the single one).
  OpsHttp(ProjectorStatus& status, std::chrono::steady_clock::duration stall,
          const UnitsReport* units = nullptr);
  ~OpsHttp();
  Status start(const std::string& host, std::uint16_t port);
  std::uint16_t port() const;
  void stop();

 private:
  ProjectorStatus& status_;
  const std::chrono::steady_clock::duration stall_;
  api::Router router_;
  std::unique_ptr<api::ApiServer> server_;
};

}  // namespace rmm::projector
