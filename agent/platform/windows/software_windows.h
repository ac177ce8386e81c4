// Installed programs from Uninstall registry keys, as "Apps & features" lists them. The scan of
// one key is separate from collect_packages so tests can point it at a key of their own.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "common/event_codec.h"
#include "common/platform/windows/windows_api.h"
#include "common/result.h"

namespace rmm::agent::platform {

struct UninstallScan {
  std::vector<codec::PackageInfo> packages;
  bool truncated = false;
  std::size_t bytes = 0;  // names, versions and architectures so far
};

struct UninstallLimits {
  std::size_t max_packages;
  std::size_t max_bytes;
};

// Adds the programs listed under `root`\`path` (opened in `view`) to `scan`, with `arch` as their
// architecture. Skips entries without a DisplayName, parts of a larger product (SystemComponent
// = 1) and updates filed under the product they patch (ParentKeyName). Stops, setting
// `truncated`, at the first entry past a limit. kNotFound when the key does not exist.
Status scan_uninstall_key(HKEY root, std::wstring_view path, REGSAM view, std::string_view arch,
                          const UninstallLimits& limits, UninstallScan& scan);

}  // namespace rmm::agent::platform
