#include "updater/release/trusted_keys.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace rmm::release {

std::span<const TrustedKey> trusted_keys() {
  static const std::vector<TrustedKey> keys = [] {
    auto parsed = parse_trusted_keys(RMM_RELEASE_TRUSTED_KEYS);
    if (!parsed) {
      // A build-time mistake: no binary with a malformed key list may run.
      std::fprintf(stderr, "RMM_RELEASE_TRUSTED_KEYS: %s\n", parsed.error().message.c_str());
      std::abort();
    }
    return std::move(*parsed);
  }();
  return keys;
}

}  // namespace rmm::release
