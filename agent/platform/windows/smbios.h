// The SMBIOS tables as GetSystemFirmwareTable('RSMB') returns them, reduced to the strings the
// inventory reports. Pure parsing, no Win32 calls, so tests feed it fixed bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"

namespace rmm::agent::platform {

struct SmbiosFacts {
  std::string bios_vendor, bios_version;                     // type 0
  std::string system_vendor, system_product, system_serial;  // type 1
  std::string board_vendor, board_product, board_serial;     // type 2
};

// `raw` is a RawSMBIOSData blob: an 8-byte header (calling method, major and minor version, DMI
// revision, then the table length as a little-endian uint32) followed by the structure table.
// Strings are trimmed and clipped (clip_text). Malformed structures end the walk; what was read
// before them is kept. Fails only when the header itself is unusable.
Result<SmbiosFacts> parse_smbios(std::span<const std::uint8_t> raw);

}  // namespace rmm::agent::platform
