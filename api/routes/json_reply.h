// Small helpers every read route shares: JSON answers, pg values to JSON, list paging.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

#include "api/routes/json_writer.h"
#include "api/server/http.h"
#include "common/result.h"

namespace rmm::api {

// 200 (or `status`) application/json, Cache-Control: no-store.
Response json_response(const Request& req, const boost::json::value& body,
                       http::status status = http::status::ok);
// The same with a body that is JSON text already (written with JsonWriter).
Response json_text_response(const Request& req, std::string body,
                            http::status status = http::status::ok);

// NULL -> null; else the text / number / RFC 3339 time (column as epoch microseconds bigint).
boost::json::value json_text(const pqxx::field& f);
boost::json::value json_int(const pqxx::field& f);
boost::json::value json_double(const pqxx::field& f);
boost::json::value json_time_us(const pqxx::field& f);
// A jsonb/json column (its text) parsed; null when NULL or unparsable.
boost::json::value json_doc(const pqxx::field& f);
// The same conversions written straight into a JsonWriter (for long lists): NULL -> null.
void write_text(JsonWriter& w, const pqxx::field& f);
void write_int(JsonWriter& w, const pqxx::field& f);
void write_double(JsonWriter& w, const pqxx::field& f);
void write_time_us(JsonWriter& w, const pqxx::field& f);

// SQL for a timestamptz column as epoch microseconds, for json_time_us().
std::string sql_us(std::string_view column);

// ?limit= (default 100, 1..500); kInvalidInput when malformed or out of range.
Result<int> limit_param(const Request& req);
// Opaque cursors: base64url of a JSON array of the sort key of the last item.
std::string encode_cursor(const boost::json::array& key);
// nullopt when absent; kInvalidInput when malformed.
Result<std::optional<boost::json::array>> cursor_param(const Request& req);
// A uuid-valued query parameter: nullopt when absent, kInvalidInput when not a uuid.
Result<std::optional<std::string>> uuid_param(const Request& req, std::string_view name);
// A uuid path parameter in canonical form, or kNotFound (a malformed id names nothing).
Result<std::string> uuid_path(const RequestContext& ctx, std::string_view name);
// RFC 3339 text -> epoch microseconds (parsed by PostgreSQL rules is overkill: Z or +00:00 only,
// optional fraction). kInvalidInput when malformed.
Result<std::int64_t> parse_rfc3339_us(std::string_view text);

// Problem answer for an error of a read route: kInvalidInput 400, kNotFound 404, kTimeout 503,
// else a logged generic 500.
Response read_problem(const Error& error, const Request& req, const RequestContext& ctx);

}  // namespace rmm::api
