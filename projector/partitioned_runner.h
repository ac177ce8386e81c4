// rmm-projector with --partitions=N: runs the units of the partitioned projection this process
// holds (docs/architecture.md, "Partitioned projection"), one thread and one PostgreSQL
// connection each, beside any number of other rmm-projector processes on the same database.
//
// Every lock-poll-interval the process counts the live projector processes, takes free units up
// to its fair share (db/projection_lock.h) and gives back, between transactions, the units it
// holds beyond it. A killed process's units are taken by the others at their next poll, so a
// unit moves within lock-poll-interval plus a consumer's creation.
//
// Before any unit: the "core" lock is taken shared on the process's own control connection (the
// single projection takes it exclusive, so the two modes never fold the same read models), the
// migrations are applied and every unit without a checkpoint starts from the single
// projection's.
//
// Concurrency: start() and run() on the caller's thread; `stop` may be set from a signal handler
// and is honoured within one poll (units finish their transaction first). A failed query on the
// control connection ends run() with an error: the shared lock may be gone with it.
// The ops endpoint reports liveness, readiness (ready: holds at least one unit) and, read every
// stream-check-interval on the control connection, every unit's owner, checkpoint, watermark and
// lag (units_report.h: GET /units, and rmm_projector_unit_* gauges in /metrics); the single
// projection's lag and checkpoint gauges stay 0.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <pqxx/connection>
#include <string>
#include <thread>
#include <vector>

#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "common/result.h"
#include "projector/ops_http.h"
#include "projector/settings.h"
#include "projector/status.h"
#include "projector/unit_runner.h"
#include "projector/units_report.h"

namespace rmm::projector {

class PartitionedRunner {
 public:
  PartitionedRunner(ProjectorOptions options, int partitions, const std::atomic<bool>& stop);
  ~PartitionedRunner();
  PartitionedRunner(const PartitionedRunner&) = delete;
  PartitionedRunner& operator=(const PartitionedRunner&) = delete;

  Status start();
  // Returns OK when `stop` was set.
  Status run();

 private:
  struct Running {
    std::unique_ptr<UnitRunner> runner;
    std::atomic<bool> release{false};
    std::atomic<bool> done{false};
    std::thread thread;
  };

  // Joins the units that ended (released, or lost: those are free to be taken again).
  void reap();
  // Takes or gives back units; an error when the control connection failed.
  Status balance();
  // Reads the units' positions and lag into units_report_ and the unit gauges.
  void report_units();
  void take(const Unit& unit);

  ProjectorOptions options_;
  const std::vector<Unit> units_;
  const std::atomic<bool>& stop_;
  const std::string application_name_;
  std::unique_ptr<pqxx::connection> control_db_;  // holds the shared "core" lock; counts
  std::unique_ptr<nats::Connection> nats_;
  BarrierSignal barrier_signal_;  // shared by the units: declared before them
  std::map<std::string, std::unique_ptr<Running>> running_;
  std::unique_ptr<nats::JetStream> js_;  // the unit report's stream reads
  ProjectorStatus status_;
  UnitsReport units_report_;
  std::chrono::steady_clock::time_point next_report_{};
  std::unique_ptr<OpsHttp> ops_;  // serves status_ and units_report_: declared after, stopped first
};

}  // namespace rmm::projector
