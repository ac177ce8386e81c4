// Text at the Windows boundary: the Win32 API speaks UTF-16, the rest of the project UTF-8.
// Every string that comes from or goes to a W function is converted here, once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace rmm::win {

// UTF-16 to UTF-8. Unpaired surrogates become U+FFFD (Windows names may hold them).
std::string to_utf8(std::wstring_view wide);
// UTF-8 to UTF-16. Fails on text that is not valid UTF-8.
Result<std::wstring> to_wide(std::string_view utf8);

// Bytes a program wrote in the console's code page (cmd.exe's output) as UTF-8. `code_page` 0
// means the active OEM code page; CP_UTF8 input is checked and passed through.
std::string code_page_to_utf8(std::string_view bytes, std::uint32_t code_page);

// FormatMessageW of a Win32 error code, in English where the system has it, without the
// trailing line break; "error <code>" when there is no text.
std::string error_text(std::uint32_t code);

// `what` failed with GetLastError() (or `code`): an Error whose message names both.
Error last_error(std::string_view what);
Error win32_error(std::string_view what, std::uint32_t code);

}  // namespace rmm::win
