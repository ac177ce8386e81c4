#include <chrono>
#include <thread>

#include "common/event_codec.h"
#include "common/nats_connection.h"
#include "tools/replay/embedded_schema.h"
#include "tools/replay/metrics_csv.h"
#include "tools/replay/ordered_reader.h"
#include "tools/replay/record_format.h"
#include "tools/replay/replay.h"

namespace rmm::replay {

namespace {

using Steady = std::chrono::steady_clock;

constexpr std::size_t kRetireBatch = 256;

double since(Steady::time_point t0) {
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

}  // namespace

Result<Format> parse_format(std::string_view text) {
  if (text == "jsonl" || text == "json") return Format::kJsonl;
  if (text == "csv") return Format::kCsv;
  if (text == "raw") return Format::kRaw;
  return failf("--format {}: expected jsonl, csv or raw", text);
}

Result<ExportStats> run_export(const ExportOptions& options) {
  auto schema = SchemaJson::load(events_bfbs());
  if (!schema) return std::unexpected(schema.error());
  std::optional<MetricsCsv> csv;
  Selection selection = options.selection;
  if (options.format == Format::kCsv) {
    auto c = MetricsCsv::create(*schema, options.csv_detail);
    if (!c) return std::unexpected(c.error());
    csv.emplace(std::move(*c));
    if (selection.types.empty()) selection.types = {"metrics"};
  }
  auto conn = nats::Connection::connect({.url = options.nats_url,
                                         .creds_file = options.nats_creds,
                                         .name = "rmm-replay",
                                         .tls_ca_file = options.nats_ca,
                                         .tls_server_name = options.nats_tls_name,
                                         .max_reconnect = 60});
  if (!conn) return std::unexpected(conn.error());
  auto reader = OrderedReader::open(**conn, {.stream = options.stream,
                                             .filter_subject = filter_subject(selection),
                                             .since = selection.since,
                                             .follow = options.follow});
  if (!reader) return std::unexpected(reader.error());
  SubjectMatcher matcher(selection);

  Sink sink(options.out);
  std::string& out = sink.buffer();
  if (options.format == Format::kRaw) out.append(kRawMagic);
  if (csv) csv->append_header(out);

  ExportStats stats;
  auto t0 = Steady::now();
  auto last_progress = t0;
  std::vector<std::uint8_t> storage;
  std::uint64_t total = (*reader)->pending_at_start();
  // Messages are destroyed in bursts: each natsMsg_Destroy hands the message to nats.c's
  // collector thread under a global lock and wakes it when idle, a context switch per message
  // when destroyed one by one.
  std::vector<nats::Message> retired;
  retired.reserve(kRetireBatch);
  while (!(options.stop != nullptr && options.stop->load())) {
    auto next = (*reader)->next(std::chrono::milliseconds(500));
    if (!next) return std::unexpected(next.error());
    if (!*next) {
      if ((*reader)->finished()) break;
      continue;
    }
    Delivery& d = **next;
    ++stats.delivered;
    if (selection.until && d.stream_time > *selection.until) {
      if (!options.follow) break;
      continue;
    }
    Record rec{.stream_seq = d.stream_seq,
               .stream_time = d.stream_time,
               .subject = d.message.subject(),
               .msg_id = {},
               .data = d.message.data()};
    if (matcher.matches(rec.subject)) {
      if (options.format == Format::kRaw) {
        const char* id = nullptr;
        if (natsMsgHeader_Get(d.message.raw(), "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) {
          rec.msg_id = id;
        }
        append_raw(rec, out);
        ++stats.written;
      } else {
        auto aligned = codec::aligned_for_read(rec.data, storage);
        auto env = codec::verify_event(aligned);
        if (options.format == Format::kJsonl) {
          append_jsonl(*schema, rec, env ? aligned.data() : nullptr,
                       env ? std::string_view{} : std::string_view(env.error().message), out);
          ++stats.written;
        } else if (env) {
          csv->append_rows(rec, **env, out);
          ++stats.written;
        }
        if (!env) ++stats.invalid;
      }
      if (auto s = sink.maybe_flush(); !s) return std::unexpected(s.error());
    }
    if (options.progress && Steady::now() - last_progress > std::chrono::seconds(2)) {
      last_progress = Steady::now();
      double secs = since(t0);
      std::fprintf(stderr, "rmm-replay: %llu/%llu messages, %llu written, %.0f msg/s, seq %llu\n",
                   static_cast<unsigned long long>(stats.delivered),
                   static_cast<unsigned long long>(total),
                   static_cast<unsigned long long>(stats.written), stats.delivered / secs,
                   static_cast<unsigned long long>(d.stream_seq));
    }
    if (options.follow && d.pending == 0) {
      if (auto s = sink.flush(); !s) return std::unexpected(s.error());
    }
    retired.push_back(std::move(d.message));
    if (retired.size() >= kRetireBatch || d.pending == 0) retired.clear();
  }
  if (auto s = sink.flush(); !s) return std::unexpected(s.error());
  stats.seconds = since(t0);
  return stats;
}

}  // namespace rmm::replay
