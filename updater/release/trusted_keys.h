// The release keys this program trusts, compiled in: RMM_RELEASE_TRUSTED_KEYS, a comma-separated
// list of hex Ed25519 public keys set by CMake (cache variable RMM_RELEASE_TRUSTED_KEYS for
// production builds). trusted_keys.cc is compiled into each executable that verifies releases, so
// a test executable can be built with the test keys (tests/updater/keys) while rmm-updater never
// trusts them. There is no run-time way to add a key.
#pragma once

#include <span>

#include "updater/release/signing.h"

namespace rmm::release {

// Empty when the build names no key (then every release is refused as unknown_key).
std::span<const TrustedKey> trusted_keys();

}  // namespace rmm::release
