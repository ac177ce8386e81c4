// Nats-Msg-Ids that only their publisher can make: a readable part (who, which position) and a
// tag, 32 hex digits of SipHash-2-4 with 128-bit output (libsodium crypto_shorthash_siphashx24, a
// keyed PRF made for short inputs) of that position under a 128-bit MsgIdKey only the publisher
// holds. An agent's ids:
//   ordered lane:  "<agent id>:<seq>:<tag>"
//   presence lane: "<agent id>:hb:<n>:<tag>"
// the tag taken over the agent id, the lane and the position, under the agent's own key.
//
// Why a key: JetStream's duplicate window is keyed by the message id alone, across the whole
// stream, whatever the subject. Before, the ids were "<agent id>:<seq>": any agent could publish on
// its own subject with the ids of another agent's next events, which the stream then answered
// "duplicate" and the victim deleted from its outbox (issue 16 §3). Without the key, a valid tag is
// a 2^-128 guess per publish. The broker cannot bind an id to a subject (no header permissions in
// nats-server 2.9), and per-subject expected-sequence headers would serialise the publish window.
//
// Why a hash per message rather than one fixed random prefix: a fixed prefix is as strong only as
// long as no id of the agent is ever seen, and ids do leave the broker's headers (raw archives of
// `rmm-replay export`, anything holding the services credential, plaintext NATS on the wire,
// diagnostics). With a tag per message, a seen id names a message already stored and says
// nothing about the next ones. SipHash rather than a keyed BLAKE2b: ~50 ns against ~520 ns per tag
// with Debian's libsodium on this machine (a whole id, formatting included, ~240 ns), where the
// outbox drain spends ~25 us per event.
//
// The id stays the same for every re-send of one event (same lane and position), so the dedupe
// window still absorbs re-sends. The key never leaves the agent: not in events, not in logs.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/ids.h"
#include "events_generated.h"

namespace rmm {

struct MsgIdKey {
  static constexpr std::size_t kSize = 16;  // crypto_shorthash_siphashx24_KEYBYTES
  std::array<std::uint8_t, kSize> bytes{};
  // A fresh key from libsodium's CSPRNG.
  static MsgIdKey generate();
};

// 32 lower-case hex digits: the keyed SipHash-128 of source (16 bytes) | kind (1 byte) |
// position (8 bytes, big-endian). Fixed width, so no two (source, kind, position) share an input.
// Every keyed Nats-Msg-Id is made with it: an agent's (kind = its lane) and a control-plane
// source's (common/control_events.h).
std::string msg_id_tag(const MsgIdKey& key, const UuidBytes& source, std::uint8_t kind,
                       std::uint64_t position);

// A position in one of the agent's two lanes (schemas/events.fbs, Envelope.lane).
struct LaneSeq {
  schema::Lane lane = schema::Lane::Ordered;
  std::uint64_t n = 0;
  bool operator==(const LaneSeq&) const = default;
};

// Makes and reads back the msg ids of one agent. Immutable once built: safe to share across
// threads.
class AgentMsgIds {
 public:
  AgentMsgIds(const AgentId& agent, const MsgIdKey& key);

  std::string ordered(AgentSeq seq) const;
  std::string presence(std::uint64_t n) const;
  std::string id(LaneSeq at) const;
  // The lane position of an id made by this agent with this key; nullopt for anything else
  // (another agent, another key, the unkeyed form, a malformed id).
  std::optional<LaneSeq> parse(std::string_view id) const;

 private:
  std::string tag(LaneSeq at) const;

  AgentId agent_;
  MsgIdKey key_;
  std::string prefix_;  // "<agent id>:"
};

}  // namespace rmm
