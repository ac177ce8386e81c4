#include "updater/install.h"

#include "updater/platform/file_swap.h"

namespace rmm::updater {
namespace {

namespace fs = std::filesystem;

fs::path with_suffix(const fs::path& bin, const char* suffix) {
  fs::path p = bin;
  p += suffix;
  return p;
}

}  // namespace

fs::path staged_path(const fs::path& bin) {
  return with_suffix(bin, ".new");
}
fs::path previous_path(const fs::path& bin) {
  return with_suffix(bin, ".prev");
}

Status stage(const fs::path& bin, std::span<const std::uint8_t> artifact) {
  return platform::write_executable(staged_path(bin), artifact);
}

Status swap_in(const fs::path& bin) {
  return platform::replace_binary(bin, staged_path(bin), previous_path(bin));
}

Status restore_previous(const fs::path& bin) {
  auto prev = previous_path(bin);
  if (!fs::exists(prev)) return failf("{} is missing: nothing to roll back to", prev.string());
  // The failed build is kept for inspection next to the others.
  return platform::restore_binary(bin, prev, with_suffix(bin, ".failed"));
}

}  // namespace rmm::updater
