#include "api/routes/json_reply.h"

#include <sodium.h>

#include <charconv>
#include <ctime>

#include "api/problem.h"
#include "api/routes/agents.h"
#include "api/server/query.h"
#include "common/ids.h"
#include "common/log.h"

namespace rmm::api {

Response json_response(const Request& req, const boost::json::value& body, http::status status) {
  return json_text_response(req, boost::json::serialize(body), status);
}

Response json_text_response(const Request& req, std::string body, http::status status) {
  Response res{status, req.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

boost::json::value json_text(const pqxx::field& f) {
  if (f.is_null()) return nullptr;
  return boost::json::string(f.c_str(), f.size());
}

boost::json::value json_int(const pqxx::field& f) {
  if (f.is_null()) return nullptr;
  return f.as<std::int64_t>();
}

boost::json::value json_double(const pqxx::field& f) {
  if (f.is_null()) return nullptr;
  return f.as<double>();
}

boost::json::value json_time_us(const pqxx::field& f) {
  if (f.is_null()) return nullptr;
  return boost::json::string(format_rfc3339_utc(f.as<std::int64_t>()));
}

boost::json::value json_doc(const pqxx::field& f) {
  if (f.is_null()) return nullptr;
  boost::system::error_code ec;
  auto v = boost::json::parse(std::string_view(f.c_str(), f.size()), ec);
  if (ec) return nullptr;
  return v;
}

void write_text(JsonWriter& w, const pqxx::field& f) {
  if (f.is_null()) return w.null();
  w.string(std::string_view(f.c_str(), f.size()));
}

void write_int(JsonWriter& w, const pqxx::field& f) {
  if (f.is_null()) return w.null();
  std::int64_t v = 0;
  const char* end = f.c_str() + f.size();
  auto [ptr, ec] = std::from_chars(f.c_str(), end, v);
  w.number(ec == std::errc{} && ptr == end ? v : f.as<std::int64_t>());
}

void write_double(JsonWriter& w, const pqxx::field& f) {
  if (f.is_null()) return w.null();
  // from_chars, not field::as<double>() (a string stream in libpqxx 6): the same value, without
  // the locale machinery, for every number of every row.
  double v = 0;
  const char* end = f.c_str() + f.size();
  auto [ptr, ec] = std::from_chars(f.c_str(), end, v);
  w.number(ec == std::errc{} && ptr == end ? v : f.as<double>());
}

void write_time_us(JsonWriter& w, const pqxx::field& f) {
  if (f.is_null()) return w.null();
  std::int64_t us = 0;
  const char* end = f.c_str() + f.size();
  auto [ptr, ec] = std::from_chars(f.c_str(), end, us);
  w.string(format_rfc3339_utc(ec == std::errc{} && ptr == end ? us : f.as<std::int64_t>()));
}

std::string sql_us(std::string_view column) {
  return "(extract(epoch FROM " + std::string(column) + ") * 1000000)::bigint";
}

Result<int> limit_param(const Request& req) {
  auto v = query_param(req, "limit");
  if (!v) return 100;
  int n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || end != v->data() + v->size() || n < 1 || n > 500) {
    return fail(Error::Code::kInvalidInput, "limit must be an integer from 1 to 500");
  }
  return n;
}

std::string encode_cursor(const boost::json::array& key) {
  std::string raw = boost::json::serialize(key);
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

Result<std::optional<boost::json::array>> cursor_param(const Request& req) {
  auto v = query_param(req, "cursor");
  if (!v || v->empty()) return std::optional<boost::json::array>{};
  auto bad = [] { return fail(Error::Code::kInvalidInput, "malformed cursor"); };
  if (v->size() > 2048) return bad();
  std::string raw(v->size(), '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), v->data(),
                        v->size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return bad();
  }
  raw.resize(len);
  boost::system::error_code ec;
  auto parsed = boost::json::parse(raw, ec);
  if (ec || !parsed.is_array()) return bad();
  return std::optional<boost::json::array>(std::move(parsed.as_array()));
}

Result<std::optional<std::string>> uuid_param(const Request& req, std::string_view name) {
  auto v = query_param(req, name);
  if (!v) return std::optional<std::string>{};
  auto id = uuid_from_string(*v);
  if (!id) return fail(Error::Code::kInvalidInput, std::string(name) + " must be a uuid");
  return std::optional<std::string>(uuid_to_string(*id));
}

Result<std::string> uuid_path(const RequestContext& ctx, std::string_view name) {
  auto id = uuid_from_string(ctx.param(name));
  if (!id) return fail(Error::Code::kNotFound, "no such resource");
  return uuid_to_string(*id);
}

Result<std::int64_t> parse_rfc3339_us(std::string_view t) {
  auto bad = [] {
    return fail(Error::Code::kInvalidInput, "times are RFC 3339 UTC: 2026-01-02T03:04:05Z");
  };
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    if (pos + len > t.size()) return false;
    auto [end, ec] = std::from_chars(t.data() + pos, t.data() + pos + len, out);
    return ec == std::errc{} && end == t.data() + pos + len;
  };
  int y, mo, d, h, mi, s;
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') ||
      t[13] != ':' || t[16] != ':' || !num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) ||
      !num(11, 2, h) || !num(14, 2, mi) || !num(17, 2, s)) {
    return bad();
  }
  std::size_t pos = 19;
  std::int64_t frac_us = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (digits < 6) frac_us = frac_us * 10 + (t[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
    for (; digits < 6; ++digits) frac_us *= 10;
  }
  std::string_view zone = t.substr(pos);
  if (zone != "Z" && zone != "z" && zone != "+00:00") return bad();
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return bad();
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  std::int64_t secs = timegm(&tm);
  return secs * 1'000'000 + frac_us;
}

Response read_problem(const Error& error, const Request& req, const RequestContext& ctx) {
  switch (error.code) {
    case Error::Code::kInvalidInput:
      return make_problem(http::status::bad_request, error.message, ctx, req.version());
    case Error::Code::kNotFound:
      return make_problem(http::status::not_found, "no such resource", ctx, req.version());
    case Error::Code::kTimeout:
      log::error("read.db_unavailable",
                 {{"correlation_id", ctx.correlation_id}, {"error", error.message}});
      return make_problem(http::status::service_unavailable, "the database is unavailable", ctx,
                          req.version());
    default:
      log::error("read.failed", {{"correlation_id", ctx.correlation_id}, {"error", error.message}});
      return internal_error(ctx, req.version());
  }
}

}  // namespace rmm::api
