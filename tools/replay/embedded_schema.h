// schemas/events.fbs compiled to a binary schema (.bfbs) at build time and embedded in the
// program (tools/replay/embed_file.cmake), so rmm-replay needs no schema file at run time and
// always prints with the schema it was built with.
#pragma once

#include <cstdint>
#include <span>

namespace rmm::replay {

std::span<const std::uint8_t> events_bfbs();

}  // namespace rmm::replay
