// Agent-supplied strings are untrusted data: PostgreSQL `text` rejects NUL bytes and invalid
// UTF-8, and one bad hostname must not stall the projector, so every such string is made storable
// before it reaches a row.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rmm::projector {

// At most this many code points of any agent-supplied string are stored.
inline constexpr std::size_t kMaxAgentTextChars = 255;

// Valid UTF-8 of at most `max_chars` code points: invalid sequences become U+FFFD, NUL bytes are
// dropped, and the cut never splits a code point.
std::string storable_text(std::string_view in, std::size_t max_chars = kMaxAgentTextChars);

}  // namespace rmm::projector
