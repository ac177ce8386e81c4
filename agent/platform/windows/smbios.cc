#include "agent/platform/windows/smbios.h"

#include <string_view>
#include <vector>

#include "agent/platform/text_limits.h"

namespace rmm::agent::platform {
namespace {

constexpr std::size_t kRawHeaderBytes = 8;
constexpr std::size_t kStructureHeaderBytes = 4;  // type, length, handle
constexpr std::uint8_t kEndOfTable = 127;

std::string trimmed(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return clip_text(s);
}

// One structure: its formatted area and its strings (string number k is strings[k - 1]).
struct Structure {
  std::uint8_t type = 0;
  std::span<const std::uint8_t> formatted;
  std::vector<std::string_view> strings;

  // The string a byte of the formatted area points to; empty when absent or out of range.
  std::string string_at(std::size_t offset) const {
    if (offset >= formatted.size()) return {};
    const std::size_t index = formatted[offset];
    if (index == 0 || index > strings.size()) return {};
    return trimmed(strings[index - 1]);
  }
};

}  // namespace

Result<SmbiosFacts> parse_smbios(std::span<const std::uint8_t> raw) {
  if (raw.size() < kRawHeaderBytes) {
    return fail(Error::Code::kInvalidInput, "SMBIOS data too short");
  }
  const std::uint32_t length =
      static_cast<std::uint32_t>(raw[4]) | static_cast<std::uint32_t>(raw[5]) << 8 |
      static_cast<std::uint32_t>(raw[6]) << 16 | static_cast<std::uint32_t>(raw[7]) << 24;
  if (length > raw.size() - kRawHeaderBytes) {
    return fail(Error::Code::kInvalidInput, "SMBIOS table length exceeds the data");
  }
  const auto table = raw.subspan(kRawHeaderBytes, length);

  SmbiosFacts facts;
  bool have_bios = false, have_system = false, have_board = false;
  std::size_t pos = 0;
  while (pos + kStructureHeaderBytes <= table.size()) {
    Structure s;
    s.type = table[pos];
    const std::size_t formatted_length = table[pos + 1];
    if (formatted_length < kStructureHeaderBytes || pos + formatted_length > table.size()) break;
    s.formatted = table.subspan(pos, formatted_length);

    // The string set: NUL-terminated strings, ended by an empty one (two NULs in a row when the
    // structure has no strings at all).
    std::size_t p = pos + formatted_length;
    bool terminated = false;
    while (p < table.size()) {
      std::size_t end = p;
      while (end < table.size() && table[end] != 0) ++end;
      if (end >= table.size()) break;
      if (end == p) {
        terminated = true;
        p = end + 1;
        if (s.strings.empty() && p < table.size() && table[p] == 0 &&
            p == pos + formatted_length + 1) {
          ++p;  // the second NUL of an empty string set
        }
        break;
      }
      s.strings.emplace_back(reinterpret_cast<const char*>(table.data() + p), end - p);
      p = end + 1;
    }
    if (!terminated) break;

    // Only the first structure of each type counts (type 2 may repeat for several boards).
    if (s.type == 0 && !have_bios) {
      facts.bios_vendor = s.string_at(4);
      facts.bios_version = s.string_at(5);
      have_bios = true;
    } else if (s.type == 1 && !have_system) {
      facts.system_vendor = s.string_at(4);
      facts.system_product = s.string_at(5);
      facts.system_serial = s.string_at(7);
      have_system = true;
    } else if (s.type == 2 && !have_board) {
      facts.board_vendor = s.string_at(4);
      facts.board_product = s.string_at(5);
      facts.board_serial = s.string_at(7);
      have_board = true;
    } else if (s.type == kEndOfTable) {
      break;
    }
    pos = p;
  }
  return facts;
}

}  // namespace rmm::agent::platform
