// rmm-replay's commands as functions (main.cc parses flags; tests and benchmarks call these).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>

#include "common/result.h"
#include "tools/replay/selection.h"

namespace rmm::replay {

enum class Format { kJsonl, kCsv, kRaw };
Result<Format> parse_format(std::string_view text);

struct ExportOptions {
  std::string nats_url;
  std::string nats_creds;
  std::string nats_ca;  // TLS: CA to pin and the server's name (common/nats_tls.h)
  std::string nats_tls_name;
  std::string stream = "RMM_EVENTS";
  Format format = Format::kJsonl;
  std::string csv_detail;
  Selection selection;
  bool follow = false;
  bool progress = true;  // a line on stderr at most every 2 s
  std::FILE* out = stdout;
  const std::atomic<bool>* stop = nullptr;  // set (e.g. by SIGINT) to end a --follow
};

struct ExportStats {
  std::uint64_t delivered = 0;  // messages the consumer delivered
  std::uint64_t written = 0;    // events (or CSV samples) written
  std::uint64_t invalid = 0;    // failed verification (written as error lines in jsonl)
  double seconds = 0;
};

Result<ExportStats> run_export(const ExportOptions& options);

struct ImportOptions {
  std::string nats_url;
  std::string nats_creds;
  std::string nats_ca;
  std::string nats_tls_name;
  std::FILE* in = stdin;
  bool progress = true;
};

struct ImportStats {
  std::uint64_t published = 0;
  std::uint64_t duplicates = 0;  // dropped by the stream's dedupe window (same Nats-Msg-Id)
  double seconds = 0;
};

// Publishes every record of a raw archive to its original subject with its original
// Nats-Msg-Id (services credentials: agent subjects are written in their mapped form).
Result<ImportStats> run_import(const ImportOptions& options);

// Agent ids of a client or site (id or name), from the read model.
Result<std::vector<AgentId>> agents_of(const std::string& pg_url, const std::string& client,
                                       const std::string& site);

}  // namespace rmm::replay
