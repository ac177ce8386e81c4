// The on-disk layout of the outbox: keys and values of its column families.
//
// "events": key = the agent sequence as 8 bytes big-endian, so RocksDB's bytewise order is sequence
// order and a Seek lands on the oldest event at or after a sequence. Value = a small header, then
// the FlatBuffers envelope exactly as it will be published:
//   [format=1][event class][token length][subject token][occurred_at_ns, 8 bytes big-endian][bytes]
// "meta": a few fixed keys (last assigned sequence, presence-lane counter and pending heartbeat,
// unreported drop counters), each a fixed-width big-endian encoding.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace rmm::agent {

// What the disk budget may do to an event. Droppable: telemetry that a newer sample supersedes
// (metrics). Durable: everything else (inventory, command lifecycle, agent lifecycle), never
// dropped.
enum class EventClass : std::uint8_t { kDroppable = 0, kDurable = 1 };

}  // namespace rmm::agent

namespace rmm::agent::outbox {

inline constexpr std::string_view kEventsFamily = "events";
inline constexpr std::string_view kMetaFamily = "meta";

inline constexpr std::string_view kMetaLastSeq = "last_seq";
inline constexpr std::string_view kMetaHeartbeatLast = "hb.last";
inline constexpr std::string_view kMetaHeartbeatPending = "hb.pending";
inline constexpr std::string_view kMetaDrops = "drops";
inline constexpr std::string_view kMetaSeqReserved = "seq.reserved";
inline constexpr std::string_view kMetaBootId = "boot_id";          // the boot of the last open
inline constexpr std::string_view kMetaCleanClose = "clean_close";  // present after a clean close

using U64Bytes = std::array<char, 8>;

U64Bytes encode_u64(std::uint64_t v);
std::optional<std::uint64_t> decode_u64(std::string_view bytes);

// Keys of the events family.
inline U64Bytes seq_key(std::uint64_t seq) {
  return encode_u64(seq);
}
inline std::optional<std::uint64_t> seq_from_key(std::string_view key) {
  return decode_u64(key);
}

// A decoded value of the events family; views into the value it was decoded from.
struct RecordView {
  EventClass cls = EventClass::kDurable;
  std::string_view subject_token;
  UnixNanos occurred_at = 0;
  std::span<const std::uint8_t> bytes;
};

std::string encode_record(EventClass cls, std::string_view subject_token, UnixNanos occurred_at,
                          std::span<const std::uint8_t> bytes);
// Fails on a value this build cannot read (truncated, unknown format or class).
Result<RecordView> decode_record(std::string_view value);

// Several counters stored as one meta value: consecutive 8-byte big-endian integers.
std::string encode_u64s(std::span<const std::uint64_t> values);
// Missing trailing values read as 0, so a newer build may append counters.
void decode_u64s(std::string_view bytes, std::span<std::uint64_t> out);

}  // namespace rmm::agent::outbox
