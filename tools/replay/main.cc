// rmm-replay: the analyst's window on the event history in RMM_EVENTS.
//
//   rmm-replay [export] --nats-creds FILE [--format jsonl|csv|raw] [--since T] [--until T]
//              [--agent ID,...] [--client ID|NAME] [--site ID|NAME] [--type TOKEN,...]
//              [--csv-detail filesystems|disks|interfaces|sensors|processes] [--follow]
//   rmm-replay import --nats-creds FILE [--input FILE]
//   rmm-replay snapshot --until T --schema NAME --pg-url URL --nats-creds FILE [--replace]
//
// See docs/analysts.md.
#include <signal.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/config.h"
#include "common/log.h"
#include "common/nats_tls_settings.h"
#include "tools/replay/replay.h"
#include "tools/replay/snapshot.h"

namespace {

using namespace rmm;
using config::Setting;
using Type = config::Type;

constexpr std::array kExportSettings{
    Setting{"nats-url", Type::kString, "nats://127.0.0.1:4222", "NATS server URL"},
    Setting{"nats-creds", Type::kString, "", "services user .creds file", 0, 0, true},
    nats::kNatsCaSetting,
    nats::kNatsTlsNameSetting,
    Setting{"stream", Type::kString, "RMM_EVENTS", "stream to read"},
    Setting{"format", Type::kString, "jsonl", "jsonl (every field), csv (metrics) or raw"},
    Setting{"csv-detail", Type::kString, "",
            "csv: one row per filesystems|disks|interfaces|sensors|processes item"},
    Setting{"since", Type::kString, "",
            "from this stream time: RFC 3339, YYYY-MM-DD, Unix ns, or an age (30d)"},
    Setting{"until", Type::kString, "", "up to this stream time (same forms)"},
    Setting{"agent", Type::kString, "", "agent ids, comma-separated"},
    Setting{"client", Type::kString, "", "a client's agents (id or name; needs --pg-url)"},
    Setting{"site", Type::kString, "", "a site's agents (id or name; needs --pg-url)"},
    Setting{"type", Type::kString, "", "event type tokens, comma-separated (metrics,heartbeat)"},
    Setting{"pg-url", Type::kString, "", "read models, to resolve --client/--site"},
    Setting{"output", Type::kString, "-", "output file; - is stdout"},
    Setting{"follow", Type::kBool, "false", "keep tailing new events (Ctrl-C ends)"},
    Setting{"quiet", Type::kBool, "false", "no progress or summary on stderr"},
};

constexpr std::array kImportSettings{
    Setting{"nats-url", Type::kString, "nats://127.0.0.1:4222", "NATS server URL"},
    Setting{"nats-creds", Type::kString, "", "services user .creds file", 0, 0, true},
    nats::kNatsCaSetting,
    nats::kNatsTlsNameSetting,
    Setting{"input", Type::kString, "-", "raw archive written by --format raw; - is stdin"},
    Setting{"quiet", Type::kBool, "false", "no summary on stderr"},
};

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) {
  g_stop.store(true);
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "rmm-replay: %s\n", message.c_str());
  return 2;
}

int run_export_command(int argc, char** argv) {
  auto values = config::Values::load(kExportSettings, argc, argv);
  if (!values) return usage_error(values.error().message);
  if (values->help_requested()) {
    std::fputs(config::usage("rmm-replay [export] --nats-creds FILE [--setting=value ...]",
                             "Exports events from the stream (ordered ephemeral consumer).",
                             kExportSettings)
                   .c_str(),
               stdout);
    return 0;
  }
  replay::ExportOptions o;
  o.nats_url = values->str("nats-url");
  o.nats_creds = values->str("nats-creds");
  o.nats_ca = values->str("nats-ca");
  o.nats_tls_name = values->str("nats-tls-name");
  o.stream = values->str("stream");
  auto format = replay::parse_format(values->str("format"));
  if (!format) return usage_error(format.error().message);
  o.format = *format;
  o.csv_detail = values->str("csv-detail");
  o.follow = values->flag("follow");
  o.progress = !values->flag("quiet");
  UnixNanos now = RealClock().now();
  for (const char* key : {"since", "until"}) {
    if (values->str(key).empty()) continue;
    auto t = replay::parse_time(values->str(key), now);
    if (!t) return usage_error(t.error().message);
    (std::strcmp(key, "since") == 0 ? o.selection.since : o.selection.until) = *t;
  }
  for (const auto& a : replay::split_list(values->str("agent"))) {
    auto id = AgentId::parse(a);
    if (!id) return usage_error("--agent " + a + ": not a UUID");
    o.selection.agents.push_back(*id);
    o.selection.agents_selected = true;
  }
  if (!values->str("client").empty() || !values->str("site").empty()) {
    if (values->str("pg-url").empty()) return usage_error("--client/--site need --pg-url");
    auto ids = replay::agents_of(values->str("pg-url"), values->str("client"), values->str("site"));
    if (!ids) return usage_error(ids.error().message);
    if (o.selection.agents_selected) {
      // Both given: the intersection.
      std::vector<AgentId> both;
      for (const auto& id : *ids) {
        if (std::find(o.selection.agents.begin(), o.selection.agents.end(), id) !=
            o.selection.agents.end()) {
          both.push_back(id);
        }
      }
      o.selection.agents = std::move(both);
    } else {
      o.selection.agents = std::move(*ids);
    }
    o.selection.agents_selected = true;
    if (o.selection.agents.empty()) {
      std::fprintf(stderr, "rmm-replay: no agents in that client/site\n");
    }
  }
  o.selection.types = replay::split_list(values->str("type"));
  std::FILE* out = stdout;
  if (values->str("output") != "-") {
    out = std::fopen(values->str("output").c_str(), "wb");
    if (out == nullptr) return usage_error("cannot open " + values->str("output"));
  }
  o.out = out;
  o.stop = &g_stop;
  auto stats = replay::run_export(o);
  if (out != stdout) std::fclose(out);
  if (!stats) {
    std::fprintf(stderr, "rmm-replay: %s\n", stats.error().message.c_str());
    return 1;
  }
  if (o.progress) {
    std::fprintf(stderr,
                 "rmm-replay: %llu messages read, %llu written, %llu invalid in %.3f s "
                 "(%.0f msg/s)\n",
                 static_cast<unsigned long long>(stats->delivered),
                 static_cast<unsigned long long>(stats->written),
                 static_cast<unsigned long long>(stats->invalid), stats->seconds,
                 stats->seconds > 0 ? stats->delivered / stats->seconds : 0.0);
  }
  return 0;
}

int run_import_command(int argc, char** argv) {
  auto values = config::Values::load(kImportSettings, argc, argv);
  if (!values) return usage_error(values.error().message);
  if (values->help_requested()) {
    std::fputs(config::usage("rmm-replay import --nats-creds FILE [--input FILE]",
                             "Publishes a raw archive back into its stream.", kImportSettings)
                   .c_str(),
               stdout);
    return 0;
  }
  std::FILE* in = stdin;
  if (values->str("input") != "-") {
    in = std::fopen(values->str("input").c_str(), "rb");
    if (in == nullptr) return usage_error("cannot open " + values->str("input"));
  }
  auto stats = replay::run_import({.nats_url = values->str("nats-url"),
                                   .nats_creds = values->str("nats-creds"),
                                   .nats_ca = values->str("nats-ca"),
                                   .nats_tls_name = values->str("nats-tls-name"),
                                   .in = in,
                                   .progress = !values->flag("quiet")});
  if (in != stdin) std::fclose(in);
  if (!stats) {
    std::fprintf(stderr, "rmm-replay import: %s\n", stats.error().message.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // The connection's own close is logged as a disconnect warning: keep stderr for our lines.
  rmm::log::set_component("rmm-replay");
  rmm::log::set_level(rmm::log::Level::kError);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::string command = argc > 1 && argv[1][0] != '-' ? argv[1] : "export";
  int shift = argc > 1 && argv[1][0] != '-' ? 1 : 0;
  if (command == "export") return run_export_command(argc - shift, argv + shift);
  if (command == "import") return run_import_command(argc - shift, argv + shift);
  if (command == "snapshot")
    return replay::run_snapshot_command(argc - shift, argv + shift, g_stop);
  return usage_error("unknown command '" + command + "' (export, import, snapshot)");
}
