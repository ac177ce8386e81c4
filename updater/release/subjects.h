// Where releases live in NATS: the stream RMM_RELEASES (broker-config/streams/rmm_releases.json),
// one subject per manifest and per chunk, one message kept per subject (a re-publish replaces):
//   rmm.rel.<version token>.<platform>.<arch>.manifest
//   rmm.rel.<version token>.<platform>.<arch>.chunk.<n>
// A version's dots would split subject tokens, so the token spells them '_' ("1.2.0" -> "1_2_0").
// Agents read them with JetStream direct get (last message by subject), the only JetStream API
// their credential allows.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rmm::release {

inline constexpr std::string_view kReleaseStream = "RMM_RELEASES";

// Letters, digits, '.', '_', '-' and '+', 1..64 characters: safe as (or inside) a subject token.
bool valid_token(std::string_view s);
std::string version_token(std::string_view version);
std::string release_prefix(std::string_view version, std::string_view platform,
                           std::string_view arch);
std::string manifest_subject(std::string_view prefix);
std::string chunk_subject(std::string_view prefix, std::uint64_t index);

}  // namespace rmm::release
