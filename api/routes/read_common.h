// Pieces shared by the read routes' files (not a public API).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <utility>

#include "api/auth/principal.h"
#include "api/routes/json_reply.h"

namespace rmm::api {

using Page = std::pair<boost::json::array, boost::json::value>;  // items, next_cursor

// One keyset page: `rows` holds up to limit + 1 rows, the extra one only telling that more
// follow. `item` turns a row into its JSON object; `cursor_key` turns the page's last row into
// the key of the next cursor (encoded with encode_cursor).
template <class Item, class CursorKey>
Page page_of(const pqxx::result& rows, int limit, Item item, CursorKey cursor_key) {
  boost::json::array items;
  boost::json::value next = nullptr;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (static_cast<int>(i) == limit) {
      next = boost::json::string(encode_cursor(cursor_key(rows[i - 1])));
      break;
    }
    items.push_back(item(rows[i]));
  }
  return {std::move(items), std::move(next)};
}

// True when agent `agent_id` (canonical uuid text) exists and `p` may see it.
bool agent_visible(pqxx::transaction_base& tx, const Principal& p, const std::string& agent_id);

// One page of an agent's commands, newest first, without output; `after` is the cursor key
// (issued-or-received time in epoch microseconds, id). Returns the items and next_cursor.
Page command_items(pqxx::transaction_base& tx, const std::string& agent_id, int limit,
                   const std::optional<std::pair<std::int64_t, std::string>>& after);

// Names next to ids (docs/api.md, "Names"), resolved by the read models in the same query:
// SQL of the display name (else the username) of an actor text `col` of the form
// 'user:<uuid>'; NULL for other actors (services, 'auto') and for users that are gone.
std::string actor_name_sql(std::string_view col);
// SQL of the name of the entity `kind_sql` ('client', 'site', 'agent' (its hostname), 'user')
// with id text `id_sql`; NULL for other kinds, malformed ids and entities that are gone.
std::string entity_name_sql(std::string_view kind_sql, std::string_view id_sql);
// `expr` (text) as a uuid when it is one, else NULL: a malformed id joins nothing, never fails.
std::string sql_uuid_or_null(std::string_view expr);

// The alert item's columns for aliases `al` (alerts) and `a` (agents), read by alert_json().
std::string alert_columns();
inline constexpr int kAlertColumns = 21;  // how many alert_columns() selects
boost::json::object alert_json(const pqxx::row& r);

}  // namespace rmm::api
