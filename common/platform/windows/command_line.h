// Windows passes a program one command-line string, not an argv array; the C runtime of the child
// splits it again. These functions build that string so the child's argv is exactly ours.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::win {

// One argument quoted by the rules the Microsoft C runtime (CommandLineToArgvW) splits by:
// backslashes only escape when they precede a double quote.
std::wstring quote_argument(std::wstring_view arg);
// The UTF-8 argv as one UTF-16 command line; fails on text that is not UTF-8.
Result<std::wstring> command_line(const std::vector<std::string>& argv);

}  // namespace rmm::win
