#include "projector/partitioned_runner.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "common/log.h"
#include "common/pg.h"
#include "projector/db/migrations.h"
#include "projector/db/projection_lock.h"

namespace rmm::projector {
namespace {

using namespace std::chrono_literals;

}  // namespace

PartitionedRunner::PartitionedRunner(ProjectorOptions options, int partitions,
                                     const std::atomic<bool>& stop)
    : options_(std::move(options)),
      units_(partitioned_units(partitions)),
      stop_(stop),
      application_name_(db::projector_application_name()),
      status_(options_.stream) {
  auto& r = status_.registry();
  r.gauge("rmm_projector_unit_checkpoint_sequence", "A unit's checkpoint (units_report.h)",
          {"unit"});
  r.gauge("rmm_projector_unit_watermark_sequence", "A unit's watermark", {"unit"});
  r.gauge("rmm_projector_unit_lag_messages",
          "The stream's last sequence minus the unit's position (max of checkpoint, watermark)",
          {"unit"});
  r.gauge("rmm_projector_unit_oldest_unfolded_age_seconds",
          "Age of the first stream message past the unit's position (0 when caught up)", {"unit"});
  r.gauge("rmm_projector_unit_held", "1 when this process folds the unit", {"unit"});
}

PartitionedRunner::~PartitionedRunner() {
  ops_.reset();
  for (auto& [name, r] : running_) r->release = true;
  for (auto& [name, r] : running_) {
    if (r->thread.joinable()) r->thread.join();
  }
  running_.clear();  // units end (their connections and locks) before the NATS connection
  nats_.reset();
}

Status PartitionedRunner::start() {
  if (options_.http_port > 0) {
    ops_ = std::make_unique<OpsHttp>(
        status_,
        std::max<std::chrono::steady_clock::duration>(60s, 3 * options_.lock_poll_interval),
        &units_report_);
    if (auto st = ops_->start(options_.http_host, static_cast<std::uint16_t>(options_.http_port));
        !st) {
      log::error("ops_http.failed", {{"error", st.error().message}});
      ops_.reset();
    }
  }
  auto conn = pg::connect(options_.pg_url, {.attempts = 5});
  if (!conn) return std::unexpected(conn.error());
  control_db_ = std::move(*conn);
  if (auto st = db::identify_session(*control_db_, application_name_); !st) return st;
  auto shared = db::try_lock_projection_shared(*control_db_, db::kCoreProjection);
  if (!shared) return std::unexpected(shared.error());
  if (!*shared) {
    return failf(
        "a single-projection rmm-projector (without --partitions) folds these read models: stop "
        "it before starting partitioned ones (docs/operations.md, Several projectors)");
  }
  auto report = db::apply_migrations(*control_db_, options_.migrations_dir);
  if (!report) return std::unexpected(report.error());
  status_.set_migrated();
  std::vector<std::string> names;
  for (const auto& u : units_) names.push_back(u.name);
  if (auto st = db::seed_unit_checkpoints(*control_db_, names); !st) return st;
  status_.set_db_ok(true);

  auto nc = connect_nats(options_);
  if (!nc) return std::unexpected(nc.error());
  nats_ = std::move(*nc);
  auto js = nats::JetStream::create(*nats_, {});
  if (!js) return std::unexpected(js.error());
  js_ = std::move(*js);
  log::info("projector.partitioned", {{"units", units_.size()},
                                      {"application_name", application_name_},
                                      {"poll_ms", options_.lock_poll_interval.count()}});
  return {};
}

void PartitionedRunner::reap() {
  for (auto it = running_.begin(); it != running_.end();) {
    if (it->second->done.load()) {
      it->second->thread.join();
      it = running_.erase(it);
    } else {
      ++it;
    }
  }
}

void PartitionedRunner::take(const Unit& unit) {
  // Held by another process: asking on the control connection costs a query, not a connection.
  if (auto holder = db::projection_lock_holder(*control_db_, unit.name); holder && *holder) return;
  auto runner =
      std::make_unique<UnitRunner>(options_, unit, *nats_, application_name_, &barrier_signal_);
  auto owned = runner->try_own();
  if (!owned) {
    log::warn("unit.lock_failed", {{"unit", unit.name}, {"error", owned.error().message}});
    return;
  }
  if (!*owned) return;  // another process holds it
  auto r = std::make_unique<Running>();
  r->runner = std::move(runner);
  Running* raw = r.get();
  raw->thread = std::thread([this, raw] {
    if (auto st = raw->runner->run(stop_, raw->release); !st) {
      log::warn("unit.ended", {{"unit", raw->runner->unit().name}, {"error", st.error().message}});
    }
    raw->done = true;
  });
  running_.emplace(unit.name, std::move(r));
}

Status PartitionedRunner::balance() {
  auto processes = db::live_projector_processes(*control_db_);
  if (!processes) {
    status_.set_db_ok(false);
    return std::unexpected(processes.error());
  }
  status_.set_db_ok(true);
  const auto share =
      static_cast<std::size_t>(db::fair_share(static_cast<int>(units_.size()), *processes));
  std::size_t held = 0;
  for (const auto& [name, r] : running_) {
    if (!r->release.load()) ++held;
  }
  // Over the share (another process came): give back the last units first, between
  // transactions; the other process takes them at its next poll.
  for (auto it = units_.rbegin(); it != units_.rend() && held > share; ++it) {
    auto r = running_.find(it->name);
    if (r == running_.end() || r->second->release.load()) continue;
    r->second->release = true;
    --held;
  }
  // Under the share: try the free units, starting at an offset of our own so that processes
  // starting together do not all race for the same ones.
  const std::size_t offset = std::hash<std::string>{}(application_name_) % units_.size();
  for (std::size_t i = 0; i < units_.size() && held < share && !stop_.load(); ++i) {
    const Unit& unit = units_[(offset + i) % units_.size()];
    if (running_.contains(unit.name)) continue;
    take(unit);
    if (running_.contains(unit.name)) ++held;
  }
  status_.set_owner(held > 0);
  return {};
}

void PartitionedRunner::report_units() {
  next_report_ = std::chrono::steady_clock::now() + options_.stream_check_interval;
  std::vector<std::string> names;
  for (const auto& u : units_) names.push_back(u.name);
  std::set<std::string> held;
  for (const auto& [name, r] : running_) {
    if (!r->release.load()) held.insert(name);
  }
  auto reading = collect_units(*control_db_, js_->raw(), options_.stream, names, held);
  if (!reading) {
    log::warn("units.report_failed", {{"error", reading.error().message}});
    return;
  }
  auto& r = status_.registry();
  for (const auto& u : reading->units) {
    const metrics::Labels unit{u.unit.unit};
    r.set("rmm_projector_unit_checkpoint_sequence", static_cast<double>(u.unit.checkpoint), unit);
    r.set("rmm_projector_unit_watermark_sequence", static_cast<double>(u.unit.watermark), unit);
    r.set("rmm_projector_unit_lag_messages", static_cast<double>(u.lag_messages), unit);
    r.set("rmm_projector_unit_oldest_unfolded_age_seconds",
          u.oldest_unfolded_age_seconds.value_or(0), unit);
    r.set("rmm_projector_unit_held", u.held_here ? 1 : 0, unit);
  }
  units_report_.update(std::move(*reading));
}

Status PartitionedRunner::run() {
  std::size_t last_reported = units_.size() + 1;
  while (!stop_.load()) {
    status_.beat();
    reap();
    // The control connection carries the shared lock that keeps the single projection away: a
    // process that lost it ends (its units first), and its supervisor starts it again.
    if (auto st = balance(); !st) {
      log::error("projector.control_connection_lost", {{"error", st.error().message}});
      for (auto& [name, r] : running_) r->release = true;
      return st;
    }
    if (std::chrono::steady_clock::now() >= next_report_) report_units();
    if (running_.size() != last_reported) {
      last_reported = running_.size();
      std::vector<std::string> held;
      for (const auto& [name, r] : running_) held.push_back(name);
      log::info("projector.units",
                {{"held", fmt::format("{}", fmt::join(held, ","))}, {"count", held.size()}});
    }
    const auto deadline = std::chrono::steady_clock::now() + options_.lock_poll_interval;
    while (!stop_.load() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(
          std::min<std::chrono::milliseconds>(50ms, options_.lock_poll_interval));
    }
  }
  for (auto& [name, r] : running_) r->release = true;
  for (auto& [name, r] : running_) r->thread.join();
  running_.clear();
  return {};
}

}  // namespace rmm::projector
