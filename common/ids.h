// Strong identity and position types. An AgentId is not a CommandId, and a stream sequence is not
// an agent's own sequence, even though each is 16 bytes or a uint64 underneath.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace rmm {

using UuidBytes = std::array<std::uint8_t, 16>;

// Canonical text (8-4-4-4-12 lowercase hex) of 16 bytes, and back.
std::string uuid_to_string(const UuidBytes& bytes);
Result<UuidBytes> uuid_from_string(std::string_view text);
// RFC 9562 UUIDv7: 48-bit Unix milliseconds from `clock`, then random bits (libsodium).
UuidBytes uuid_v7(const Clock& clock);

template <class Tag>
class Id {
 public:
  Id() = default;
  explicit Id(const UuidBytes& bytes) : bytes_(bytes) {}

  static Id generate(const Clock& clock) { return Id(uuid_v7(clock)); }
  static Result<Id> parse(std::string_view text) {
    auto bytes = uuid_from_string(text);
    if (!bytes) return std::unexpected(bytes.error());
    return Id(*bytes);
  }

  const UuidBytes& bytes() const { return bytes_; }
  std::string str() const { return uuid_to_string(bytes_); }
  bool is_nil() const { return bytes_ == UuidBytes{}; }

  auto operator<=>(const Id&) const = default;

 private:
  UuidBytes bytes_{};
};

struct AgentTag {};
struct CommandTag {};
struct EventTag {};
using AgentId = Id<AgentTag>;
using CommandId = Id<CommandTag>;
using EventId = Id<EventTag>;

// An unsigned position with a distinct type per meaning.
template <class Tag>
struct Position {
  std::uint64_t value = 0;
  auto operator<=>(const Position&) const = default;
  Position next() const { return Position{value + 1}; }
};

struct StreamSeqTag {};
struct AgentSeqTag {};
// Position of a message in a JetStream stream.
using StreamSeq = Position<StreamSeqTag>;
// Per-source event sequence: starts at 1, monotonic, survives restarts of the source.
using AgentSeq = Position<AgentSeqTag>;

}  // namespace rmm

template <class Tag>
struct std::hash<rmm::Id<Tag>> {
  std::size_t operator()(const rmm::Id<Tag>& id) const noexcept {
    std::size_t h = 0;
    for (auto b : id.bytes()) h = h * 131 + b;
    return h;
  }
};
