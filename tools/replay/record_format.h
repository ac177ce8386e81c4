// The per-event output formats of rmm-replay other than CSV: JSON Lines and the raw archive.
//
// JSON Lines: one object per event,
//   {"stream_seq":N,"subject":"...","stream_time":"<RFC 3339>","event":{<Envelope, schema-driven>}}
// and for a message that fails verification "event":null plus "error":"<why>" and "raw" (base64).
//
// Raw archive: the 8-byte magic "RMMRAW1\n", then per message a little-endian record
//   u32 record length (of what follows) | u64 stream_seq | i64 stream time (Unix ns)
//   | u16 subject length | subject | u16 Nats-Msg-Id length | Nats-Msg-Id | payload (the rest)
// so `rmm-replay import` can publish the same bytes to the same subject with the same dedupe id.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "tools/replay/schema_json.h"

namespace rmm::replay {

inline constexpr std::string_view kRawMagic = "RMMRAW1\n";

struct Record {
  std::uint64_t stream_seq = 0;
  std::int64_t stream_time = 0;
  std::string_view subject;
  std::string_view msg_id;
  std::span<const std::uint8_t> data;  // the payload as received
};

// `verified` is the verified, aligned envelope buffer (nullptr when verification failed; then
// `error` says why).
void append_jsonl(const SchemaJson& schema, const Record& record, const std::uint8_t* verified,
                  std::string_view error, std::string& out);

void append_raw(const Record& record, std::string& out);

// Reads a raw archive record by record. Limitations: records up to 64 MiB.
class RawReader {
 public:
  explicit RawReader(std::FILE* in) : in_(in) {}
  // Checks the magic; call once first.
  Status read_header();
  // false at a clean end of file; fails on a truncated or malformed record.
  Result<bool> next(Record& record);

 private:
  std::FILE* in_;
  std::string buffer_;
};

// Buffered writing to a FILE* (stdout by default): callers append to buffer() and call
// maybe_flush(); the buffer goes out in large writes.
class Sink {
 public:
  explicit Sink(std::FILE* out) : out_(out) { buffer_.reserve(kFlushAt + 65536); }
  ~Sink() { (void)flush(); }
  std::string& buffer() { return buffer_; }
  Status maybe_flush() { return buffer_.size() >= kFlushAt ? flush() : Status{}; }
  Status flush();

 private:
  static constexpr std::size_t kFlushAt = 1 << 20;
  std::FILE* out_;
  std::string buffer_;
};

}  // namespace rmm::replay
