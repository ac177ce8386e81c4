#include "updater/release/subjects.h"

#include <fmt/format.h>

namespace rmm::release {

bool valid_token(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '+';
    if (!ok) return false;
  }
  return true;
}

std::string version_token(std::string_view version) {
  std::string out(version);
  for (char& c : out) {
    if (c == '.' || c == '+') c = '_';
  }
  return out;
}

std::string release_prefix(std::string_view version, std::string_view platform,
                           std::string_view arch) {
  // Platform and arch names carry no dots in practice; map them too, so no name splits a token.
  return fmt::format("rmm.rel.{}.{}.{}", version_token(version), version_token(platform),
                     version_token(arch));
}

std::string manifest_subject(std::string_view prefix) {
  return fmt::format("{}.manifest", prefix);
}

std::string chunk_subject(std::string_view prefix, std::uint64_t index) {
  return fmt::format("{}.chunk.{}", prefix, index);
}

}  // namespace rmm::release
