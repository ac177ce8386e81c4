#include "common/jetstream_reply.h"

#include <array>
#include <charconv>

namespace rmm::nats {
namespace {

template <typename T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::optional<DeliveryInfo> parse_delivery_reply(std::string_view reply) {
  constexpr std::string_view kPrefix = "$JS.ACK.";
  if (!reply.starts_with(kPrefix)) return std::nullopt;
  std::array<std::string_view, 10> tokens{};
  std::size_t count = 0;
  std::string_view rest = reply.substr(kPrefix.size());
  while (count < tokens.size()) {
    auto dot = rest.find('.');
    tokens[count++] = rest.substr(0, dot);
    if (dot == std::string_view::npos) {
      rest = {};
      break;
    }
    rest.remove_prefix(dot + 1);
  }
  if (!rest.empty()) return std::nullopt;  // more tokens than any known form
  // Counted without "$JS" and "ACK": v1 has 7 tokens, v2 (domain, account hash first) 9 or 10.
  std::size_t base = 0;
  if (count == 7) {
    base = 3;
  } else if (count == 9 || count == 10) {
    base = 5;
  } else {
    return std::nullopt;
  }
  DeliveryInfo d;
  if (!parse_number(tokens[base], d.stream_seq) ||
      !parse_number(tokens[base + 1], d.consumer_seq) ||
      !parse_number(tokens[base + 2], d.stream_time) ||
      !parse_number(tokens[base + 3], d.pending)) {
    return std::nullopt;
  }
  return d;
}

UnixNanos wire_start_time(UnixNanos since) {
  constexpr UnixNanos kSecond = 1'000'000'000;
  UnixNanos fraction = since % kSecond;
  if (fraction < 0) fraction += kSecond;
  return fraction < kSecond / 10 ? since - fraction : since;
}

}  // namespace rmm::nats
