// Pieces shared by the read routes' files (not a public API).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <utility>

#include "api/auth/principal.h"

namespace rmm::api {

// True when agent `agent_id` (canonical uuid text) exists and `p` may see it.
bool agent_visible(pqxx::transaction_base& tx, const Principal& p, const std::string& agent_id);

// One page of an agent's commands, newest first, without output; `after` is the cursor key
// (issued-or-received time in epoch microseconds, id). Returns the items and next_cursor.
std::pair<boost::json::array, boost::json::value> command_items(
    pqxx::transaction_base& tx, const std::string& agent_id, int limit,
    const std::optional<std::pair<std::int64_t, std::string>>& after);

// The alert item's columns for aliases `al` (alerts) and `a` (agents), read by alert_json().
std::string alert_columns();
boost::json::object alert_json(const pqxx::row& r);

}  // namespace rmm::api
