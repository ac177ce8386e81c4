// rmm-projector: folds RMM_EVENTS into the PostgreSQL read models. See docs/architecture.md.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <vector>

#include "common/config.h"
#include "common/log.h"
#include "common/time_text.h"
#include "projector/losses_command.h"
#include "projector/partitioned_runner.h"
#include "projector/rebuild/commands.h"
#include "projector/rebuild/snapshot.h"
#include "projector/runner.h"
#include "projector/settings.h"

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) {
  g_stop.store(true);
}

// The point-in-time options of `rebuild` (docs/operations.md), on top of the projector's settings.
constexpr rmm::config::Setting kSnapshotSettings[] = {
    {"until", rmm::config::Type::kString, "",
     "rebuild: the read models as of this stream time (RFC 3339, YYYY-MM-DD, Unix ns, an age) "
     "into --schema, left in place"},
    {"schema", rmm::config::Type::kString, "", "rebuild --until: the schema the snapshot stays in"},
    {"replace", rmm::config::Type::kBool, "false",
     "rebuild --until: replace an earlier snapshot of that --schema"},
    {"acknowledge", rmm::config::Type::kString, "",
     "losses: acknowledge the stream loss with this id, or 'all' of them"},
};

std::vector<rmm::config::Setting> all_settings() {
  auto base = rmm::projector::settings();
  std::vector<rmm::config::Setting> all(base.begin(), base.end());
  all.insert(all.end(), std::begin(kSnapshotSettings), std::end(kSnapshotSettings));
  return all;
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

// The live fold, one projection or the partitioned one: 0 when stopped by a signal.
template <class LiveRunner>
int run_live(LiveRunner& runner) {
  if (auto st = runner.start(); !st) {
    rmm::log::error("projector.start_failed", {{"error", st.error().message}});
    return 1;
  }
  if (auto st = runner.run(); !st) {
    rmm::log::error("projector.failed", {{"error", st.error().message}});
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace rmm;
  const auto specs = all_settings();
  auto values = config::Values::load(specs, argc, argv);
  if (!values) {
    std::fprintf(stderr, "rmm-projector: %s\n", values.error().message.c_str());
    return 2;
  }
  if (values->help_requested()) {
    std::fputs(config::usage("rmm-projector [rebuild [--until T --schema NAME] | verify | "
                             "losses [--acknowledge=all|ID]] [--setting=value ...]",
                             "Folds the RMM_EVENTS stream into the PostgreSQL read models; rebuild "
                             "replays it into a new schema and swaps it in (with --until: the read "
                             "models as of T, left in --schema), verify compares a replay with "
                             "the live read models, losses lists the events the stream deleted "
                             "before they were folded (docs/operations.md).",
                             specs)
                   .c_str(),
               stdout);
    return 0;
  }
  log::set_component("projector");
  auto level = log::parse_level(values->str("log-level"));
  if (!level) {
    std::fprintf(stderr, "rmm-projector: log-level: %s\n", level.error().message.c_str());
    return 2;
  }
  log::set_level(*level);
  auto options = projector::options_from(*values);
  if (!options) {
    std::fprintf(stderr, "rmm-projector: %s\n", options.error().message.c_str());
    return 2;
  }
  install_signal_handlers();
  const auto& positional = values->positional();
  const bool point_in_time = !values->str("until").empty();
  if (!point_in_time && (!values->str("schema").empty() || values->flag("replace"))) {
    std::fprintf(stderr, "rmm-projector: --schema and --replace go with rebuild --until\n");
    return 2;
  }
  if (point_in_time && (positional.size() != 1 || positional[0] != "rebuild")) {
    std::fprintf(stderr, "rmm-projector: --until goes with the rebuild command\n");
    return 2;
  }
  const bool losses = positional.size() == 1 && positional[0] == "losses";
  if (!losses && !values->str("acknowledge").empty()) {
    std::fprintf(stderr, "rmm-projector: --acknowledge goes with the losses command\n");
    return 2;
  }
  if (losses) return projector::run_losses(options->pg_url, values->str("acknowledge"));
  if (!positional.empty()) {
    if (positional.size() > 1 || (positional[0] != "rebuild" && positional[0] != "verify")) {
      std::fprintf(stderr, "rmm-projector: unknown command '%s' (rebuild, verify or losses)\n",
                   positional.back().c_str());
      return 2;
    }
    const projector::rebuild::CommandOptions co{
        .nats_url = options->nats_url,
        .nats_creds = options->nats_creds,
        .pg_url = options->pg_url,
        .stream = options->stream,
        .nats_ca = options->nats_ca,
        .nats_tls_name = options->nats_tls_name,
        .archive = options->control_archive,
        .migrations_dir = options->migrations_dir,
        .batch_size = static_cast<std::size_t>(options->rebuild_batch_size),
        .metrics_retention = options->metrics_retention,
        .rollup_retention = options->rollup_retention,
        .dead_letter_retention = options->dead_letter_retention,
        .keep_old_schema = options->keep_old_schema,
        .max_diffs = static_cast<std::size_t>(options->verify_max_diffs),
        .parallel = options->rebuild_parallel == "on"    ? projector::rebuild::Parallel::kOn
                    : options->rebuild_parallel == "off" ? projector::rebuild::Parallel::kOff
                                                         : projector::rebuild::Parallel::kAuto};
    if (point_in_time) {
      auto until = parse_time_text(values->str("until"), real_clock().now());
      if (!until) {
        std::fprintf(stderr, "rmm-projector: --until: %s\n", until.error().message.c_str());
        return 2;
      }
      return projector::rebuild::run_snapshot({.base = co,
                                               .until = *until,
                                               .schema = values->str("schema"),
                                               .replace = values->flag("replace")},
                                              g_stop);
    }
    return positional[0] == "rebuild" ? projector::rebuild::run_rebuild(co, g_stop)
                                      : projector::rebuild::run_verify(co, g_stop);
  }
  if (options->partitions > 0) {
    const int partitions = options->partitions;
    projector::PartitionedRunner runner(std::move(*options), partitions, g_stop);
    return run_live(runner);
  }
  projector::Runner runner(std::move(*options), g_stop);
  return run_live(runner);
}
