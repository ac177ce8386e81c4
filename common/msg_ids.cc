#include "common/msg_ids.h"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <charconv>

namespace rmm {
namespace {

constexpr std::size_t kTagBytes = crypto_shorthash_siphashx24_BYTES;
static_assert(MsgIdKey::kSize == crypto_shorthash_siphashx24_KEYBYTES);
constexpr std::string_view kPresence = "hb:";

void ensure_sodium() {
  [[maybe_unused]] static const int ready = sodium_init();  // idempotent, thread-safe
}

}  // namespace

MsgIdKey MsgIdKey::generate() {
  ensure_sodium();
  MsgIdKey k;
  randombytes_buf(k.bytes.data(), k.bytes.size());
  return k;
}

std::string msg_id_tag(const MsgIdKey& key, const UuidBytes& source, std::uint8_t kind,
                       std::uint64_t position) {
  ensure_sodium();
  std::array<std::uint8_t, 25> in{};
  std::copy(source.begin(), source.end(), in.begin());
  in[16] = kind;
  for (int i = 0; i < 8; ++i) in[17 + i] = static_cast<std::uint8_t>(position >> (56 - 8 * i));
  std::array<std::uint8_t, kTagBytes> out{};
  crypto_shorthash_siphashx24(out.data(), in.data(), in.size(), key.bytes.data());
  std::string hex(2 * kTagBytes + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), out.data(), out.size());
  hex.pop_back();
  return hex;
}

AgentMsgIds::AgentMsgIds(const AgentId& agent, const MsgIdKey& key)
    : agent_(agent), key_(key), prefix_(agent.str() + ":") {
  ensure_sodium();
}

std::string AgentMsgIds::tag(LaneSeq at) const {
  return msg_id_tag(key_, agent_.bytes(), static_cast<std::uint8_t>(at.lane), at.n);
}

std::string AgentMsgIds::id(LaneSeq at) const {
  return fmt::format("{}{}{}:{}", prefix_, at.lane == schema::Lane::Presence ? kPresence : "", at.n,
                     tag(at));
}

std::string AgentMsgIds::ordered(AgentSeq seq) const {
  return id({schema::Lane::Ordered, seq.value});
}

std::string AgentMsgIds::presence(std::uint64_t n) const {
  return id({schema::Lane::Presence, n});
}

std::optional<LaneSeq> AgentMsgIds::parse(std::string_view id) const {
  if (!id.starts_with(prefix_)) return std::nullopt;
  auto rest = id.substr(prefix_.size());
  LaneSeq out;
  if (rest.starts_with(kPresence)) {
    out.lane = schema::Lane::Presence;
    rest.remove_prefix(kPresence.size());
  }
  if (rest.starts_with('0')) return std::nullopt;  // no zero, no leading zeros: one spelling
  auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), out.n);
  if (ec != std::errc() || ptr == rest.data()) return std::nullopt;
  rest.remove_prefix(static_cast<std::size_t>(ptr - rest.data()));
  if (!rest.starts_with(':') || rest.substr(1) != tag(out)) return std::nullopt;
  return out;
}

}  // namespace rmm
