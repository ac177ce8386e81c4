// Quoting of Windows command lines, checked against the rules' own reader (CommandLineToArgvW),
// and the streaming decoder of command output.
#include "common/platform/windows/command_line.h"

#include <doctest/doctest.h>

#include "agent/platform/windows/output_decoder.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"
// After windows_api.h: it needs the definitions of <windows.h>.
#include <shellapi.h>

namespace {

using rmm::agent::win::OutputDecoder;
using rmm::win::build_command_line;
using rmm::win::quote_argument;

// What a program started with `line` finds in its argv.
std::vector<std::string> parse(const std::wstring& line) {
  int n = 0;
  wchar_t** args = ::CommandLineToArgvW(line.c_str(), &n);
  REQUIRE(args != nullptr);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(rmm::win::to_utf8(args[i]));
  ::LocalFree(args);
  return out;
}

}  // namespace

TEST_CASE("arguments are quoted only when they need it") {
  CHECK(quote_argument(L"plain") == L"plain");
  CHECK(quote_argument(L"C:\\dir\\file.txt") == L"C:\\dir\\file.txt");
  CHECK(quote_argument(L"") == L"\"\"");
  CHECK(quote_argument(L"two words") == L"\"two words\"");
  CHECK(quote_argument(L"say \"hi\"") == L"\"say \\\"hi\\\"\"");
  CHECK(quote_argument(L"a\\\"b") == L"\"a\\\\\\\"b\"");
  CHECK(quote_argument(L"C:\\a dir\\") == L"\"C:\\a dir\\\\\"");
  CHECK(quote_argument(L"tab\there") == L"\"tab\there\"");
}

TEST_CASE("every argument survives CommandLineToArgvW unchanged") {
  const std::vector<std::string> argv = {"C:\\Program Files\\tool.exe",
                                         "",
                                         "plain",
                                         "two words",
                                         "\"",
                                         "\\",
                                         "\\\\",
                                         "a\\\"b",
                                         "trailing\\",
                                         "trailing space\\",
                                         "x\\\\\"y z",
                                         "  ",
                                         "né ✓ 日本",
                                         "%PATH%",
                                         "a&b|c<d>e^f"};
  auto line = build_command_line(argv);
  REQUIRE(line.has_value());
  CHECK(parse(*line) == argv);
}

TEST_CASE("cmd.exe /s /c takes the rest as one command in a pair of quotes") {
  auto line = build_command_line(
      {"C:\\Windows\\system32\\cmd.exe", "/d", "/s", "/c", "echo", "\"a b\" & exit /b 3"});
  REQUIRE(line.has_value());
  CHECK(*line == L"C:\\Windows\\system32\\cmd.exe /d /s /c \"echo \"a b\" & exit /b 3\"");
  // Without /s cmd.exe applies its own quote rules: the arguments are quoted as for any program.
  auto plain = build_command_line({"C:\\Windows\\system32\\CMD.EXE", "/c", "echo", "a b"});
  REQUIRE(plain.has_value());
  CHECK(*plain == L"C:\\Windows\\system32\\CMD.EXE /c echo \"a b\"");
}

TEST_CASE("a command line refuses NUL and empty programs") {
  CHECK(!build_command_line({}).has_value());
  CHECK(!build_command_line({""}).has_value());
  CHECK(!build_command_line({"C:\\x.exe", std::string("a\0b", 3)}).has_value());
  CHECK(!build_command_line({"C:\\x.exe", "\xff\xfe"}).has_value());
}

TEST_CASE("UTF-8 output passes through, also when a character is split across reads") {
  OutputDecoder d(437);
  const std::string text = "h\xC3\xA9llo \xE2\x9C\x93";  // "héllo ✓"
  std::string out;
  for (char c : text) out += d.decode(std::string_view(&c, 1));
  out += d.decode({}, true);
  CHECK(out == text);
}

TEST_CASE("output that is not UTF-8 is read in the OEM code page from then on") {
  OutputDecoder d(437);
  CHECK(d.decode("ok ") == "ok ");
  CHECK(d.decode("caf\x82") == "caf\xC3\xA9");                // 0x82 is é in code page 437
  CHECK(d.decode("\xC3\xA9") == "\xE2\x94\x9C\xE2\x8C\x90");  // now 437 too: ├⌐
}

TEST_CASE("a double-byte character split across reads waits for its second byte") {
  if (!::IsValidCodePage(932)) return;  // the Japanese tables are not installed
  OutputDecoder d(932);
  CHECK(d.decode("\x82") == "");                // a lead byte, not UTF-8 either
  CHECK(d.decode("\xA0x") == "\xE3\x81\x82x");  // 0x82 0xA0 is あ
}

TEST_CASE("an unfinished character at the end becomes U+FFFD") {
  OutputDecoder d(437);
  CHECK(d.decode("a\xE2\x9C") == "a");
  CHECK(d.decode({}, true) == "\xEF\xBF\xBD");
}
