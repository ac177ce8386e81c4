#include <atomic>
#include <chrono>
#include <mutex>

#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "tools/replay/record_format.h"
#include "tools/replay/replay.h"

namespace rmm::replay {

Result<ImportStats> run_import(const ImportOptions& options) {
  auto conn = nats::Connection::connect({.url = options.nats_url,
                                         .creds_file = options.nats_creds,
                                         .name = "rmm-replay-import",
                                         .tls_ca_file = options.nats_ca,
                                         .tls_server_name = options.nats_tls_name});
  if (!conn) return std::unexpected(conn.error());
  std::atomic<std::uint64_t> acked{0}, duplicates{0}, failed{0};
  std::string first_error;
  std::mutex error_mutex;
  auto js =
      nats::JetStream::create(**conn, {.max_pending = 4096,
                                       .stall_wait = std::chrono::milliseconds(5000),
                                       .on_ack = [&](const std::string&, Result<nats::PubAck> ack) {
                                         if (!ack) {
                                           failed.fetch_add(1);
                                           std::lock_guard lock(error_mutex);
                                           if (first_error.empty())
                                             first_error = ack.error().message;
                                         } else {
                                           acked.fetch_add(1);
                                           if (ack->duplicate) duplicates.fetch_add(1);
                                         }
                                       }});
  if (!js) return std::unexpected(js.error());

  RawReader reader(options.in);
  if (auto s = reader.read_header(); !s) return std::unexpected(s.error());
  ImportStats stats;
  auto t0 = std::chrono::steady_clock::now();
  Record rec;
  std::string subject, msg_id;
  while (true) {
    auto more = reader.next(rec);
    if (!more) return std::unexpected(more.error());
    if (!*more) break;
    subject.assign(rec.subject);
    msg_id.assign(rec.msg_id);
    if (auto s = (*js)->publish_async(subject, rec.data, msg_id); !s) {
      return std::unexpected(with_context(s.error(), "publishing " + subject));
    }
    ++stats.published;
  }
  if (auto s = (*js)->publish_async_complete(std::chrono::seconds(60)); !s) {
    return std::unexpected(with_context(s.error(), "waiting for the stream's acks"));
  }
  if (failed.load() > 0) {
    return failf("{} of {} publishes failed; first: {}", failed.load(), stats.published,
                 first_error);
  }
  stats.duplicates = duplicates.load();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (options.progress) {
    std::fprintf(stderr, "rmm-replay import: %llu published (%llu duplicates) in %.1f s\n",
                 static_cast<unsigned long long>(stats.published),
                 static_cast<unsigned long long>(stats.duplicates), stats.seconds);
  }
  return stats;
}

}  // namespace rmm::replay
