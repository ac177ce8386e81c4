// Turns what a command writes to a pipe into UTF-8, once, as it arrives. Windows programs write
// bytes in some code page: cmd.exe and most console tools in the console's (the OEM code page,
// e.g. 437 or 850, unless the script switched it with `chcp 65001`), PowerShell in UTF-8 when it
// is told to. A stream is taken as UTF-8 while what it wrote is valid UTF-8, and as the OEM code
// page from its first invalid byte on (plain ASCII reads the same either way). A character split
// across two reads is kept until its last byte arrives.
//
// Concurrency: one decoder per stream, used by one thread.
// Limitations: text in the OEM code page that happens to be valid UTF-8 (rare: it needs a byte
// above 0x7F followed by the right continuation bytes) is read as UTF-8.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rmm::agent::win {

class OutputDecoder {
 public:
  // `code_page` 0: the system's OEM code page.
  explicit OutputDecoder(std::uint32_t code_page = 0);

  // The UTF-8 text of `bytes` (after what earlier calls kept back); `last` flushes a split
  // character as it is (it becomes U+FFFD).
  std::string decode(std::string_view bytes, bool last = false);

 private:
  std::uint32_t code_page_;
  bool utf8_ = true;
  std::string pending_;
};

}  // namespace rmm::agent::win
