// CSV for spreadsheet exports (RFC 4180): every cell quoted, quotes doubled, rows ending CRLF.
// A cell a spreadsheet would run as a formula (text starting with = + - @, a tab or a carriage
// return) gets a leading apostrophe, so an agent's hostname or a note never executes on the
// technician's machine (OWASP "CSV injection").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rmm::api {

// One cell, quoted and made formula-safe.
std::string csv_cell(std::string_view text);
// One row of cells, with the CRLF.
std::string csv_row(const std::vector<std::string>& cells);

}  // namespace rmm::api
