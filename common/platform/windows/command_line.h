// The command line of a Windows process. Windows passes one string, not an argv: every program
// splits it itself, almost all by the rules of the Microsoft C runtime (CommandLineToArgvW), so
// each argument is quoted for those rules. cmd.exe is the exception: after `/s /c` it takes the
// rest of the line as a command, removing only the first and the last quote character.
//
// Concurrency: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::win {

// `arg` quoted so that CommandLineToArgvW yields it back unchanged: as it is when it holds no
// space, tab, line break or quote, else in quotes with backslashes doubled where they precede a
// quote (an escaped one or the closing one).
std::wstring quote_argument(std::wstring_view arg);

// The command line for `argv` (UTF-8): the program (argv[0]) in quotes when it has a space, then
// each argument quoted. When the program is cmd.exe and `/s` comes before `/c` (or /k), what
// follows is a command for cmd.exe, as `sh -c` takes one: the arguments after `/c` are joined
// with spaces as they are (cmd.exe syntax, quotes included) and wrapped in the pair of quotes
// cmd.exe removes. Fails on text that is not UTF-8 and on NUL characters.
Result<std::wstring> build_command_line(const std::vector<std::string>& argv);

}  // namespace rmm::win
