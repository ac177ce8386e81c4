// rmm-api: GuruRMM's HTTP API. Serves read models from PostgreSQL and the dashboard's files.
#include <nats/nats.h>

#include <csignal>
#include <cstdio>
#include <string_view>

#include "api/app.h"
#include "api/auth/create_user.h"
#include "api/settings.h"
#include "common/config.h"
#include "common/log.h"
#include "common/nats_tls.h"

namespace {

int run(int argc, char** argv) {
  using namespace rmm;
  log::set_component("api");
  if (argc > 1 && std::string_view(argv[1]) == "create-user") {
    log::set_level(log::Level::kWarn);
    int code = api::create_user_main(argc - 1, argv + 1);
    nats::close_library();
    return code;
  }
  auto specs = api::settings();
  auto values = config::Values::load(specs, argc, argv);
  if (!values) {
    std::fprintf(stderr, "rmm-api: %s\n", values.error().message.c_str());
    return 2;
  }
  if (values->help_requested()) {
    std::fputs(config::usage("rmm-api [options]",
                             "GuruRMM HTTP API: read models from PostgreSQL, the web dashboard, "
                             "and /healthz.",
                             specs)
                   .c_str(),
               stdout);
    return 0;
  }
  auto cfg = api::to_config(*values);
  if (!cfg) {
    std::fprintf(stderr, "rmm-api: %s\n", cfg.error().message.c_str());
    return 2;
  }
  log::set_level(cfg->log_level);

  // Block the stop signals before any thread starts, so only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto app = api::App::create(*cfg);
  if (!app) {
    log::error("api.start_failed", {{"error", app.error().message}});
    return 1;
  }
  if (auto s = (*app)->start(); !s) {
    log::error("api.start_failed", {{"error", s.error().message}});
    return 1;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::info("api.stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*app)->stop();
  app->reset();
  rmm::nats::close_library();
  log::info("api.stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run(argc, argv);
}
