// Ordering of agent versions ("1.2.10" > "1.2.9"): dot-separated numeric parts compared as
// numbers; a pre-release suffix ("1.3.0-rc1") sorts before its release. Not full SemVer: build
// metadata is not ignored, it compares as text.
#pragma once

#include <string_view>

namespace rmm::release {

// <0, 0, >0 like strcmp.
int compare_versions(std::string_view a, std::string_view b);

}  // namespace rmm::release
