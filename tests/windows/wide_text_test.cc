// UTF-16 <-> UTF-8 at the Windows boundary (common/platform/windows/wide_text.h).
#include "common/platform/windows/wide_text.h"

#include <doctest/doctest.h>

using rmm::win::to_utf8;
using rmm::win::to_wide;

TEST_CASE("text round-trips between UTF-8 and UTF-16, outside the BMP too") {
  const std::string text = "Grüße, 日本, \xF0\x9F\x98\x80 (U+1F600)";
  auto wide = to_wide(text);
  REQUIRE(wide);
  CHECK(wide->size() == 23);  // the emoji is a surrogate pair
  CHECK((*wide)[7] == L'日');
  CHECK(to_utf8(*wide) == text);
  CHECK(to_utf8(L"") == "");
}

TEST_CASE("invalid UTF-8 is refused, an unpaired surrogate becomes U+FFFD") {
  auto bad = to_wide("ok \xC3\x28");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == rmm::Error::Code::kInvalidInput);
  const wchar_t lone[] = {L'a', static_cast<wchar_t>(0xD800), L'b'};
  CHECK(to_utf8(std::wstring_view(lone, 3)) ==
        "a\xEF\xBF\xBD"
        "b");
}

TEST_CASE("a console code page is converted to UTF-8") {
  // 0x81 is ü in code page 850 (Western European OEM) and 437 (US OEM).
  CHECK(rmm::win::code_page_to_utf8("gr\x81n", 850) == "grün");
  CHECK(rmm::win::code_page_to_utf8("plain", 437) == "plain");
}

TEST_CASE("Win32 errors carry their text and code") {
  auto e = rmm::win::win32_error("opening C:\\nope", 2);  // ERROR_FILE_NOT_FOUND
  CHECK(e.message.find("opening C:\\nope: ") == 0);
  CHECK(e.message.find("(Win32 error 2)") != std::string::npos);
  CHECK(rmm::win::error_text(2).find("error 2") ==
        std::string::npos);  // a real text, not the fallback
}
