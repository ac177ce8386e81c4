// rmm-projector: folds RMM_EVENTS into the PostgreSQL read models. See docs/architecture.md.
#include <signal.h>

#include <atomic>
#include <cstdio>

#include "common/config.h"
#include "common/log.h"
#include "projector/runner.h"
#include "projector/settings.h"

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) {
  g_stop.store(true);
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace rmm;
  auto values = config::Values::load(projector::settings(), argc, argv);
  if (!values) {
    std::fprintf(stderr, "rmm-projector: %s\n", values.error().message.c_str());
    return 2;
  }
  if (values->help_requested()) {
    std::fputs(config::usage("rmm-projector [--setting=value ...]",
                             "Folds the RMM_EVENTS stream into the PostgreSQL read models.",
                             projector::settings())
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
  projector::Runner runner(std::move(*options), g_stop);
  if (auto st = runner.start(); !st) {
    log::error("projector.start_failed", {{"error", st.error().message}});
    return 1;
  }
  if (auto st = runner.run(); !st) {
    log::error("projector.failed", {{"error", st.error().message}});
    return 1;
  }
  return 0;
}
