#include "projector/units_report.h"

#include <boost/json.hpp>
#include <ctime>

#include "common/stream_usage.h"
#include "projector/stream_state.h"

namespace rmm::projector {
namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Result<UnitsReading> collect_units(pqxx::connection& conn, jsCtx* js, const std::string& stream,
                                   const std::vector<std::string>& units,
                                   const std::set<std::string>& held) {
  auto positions = db::unit_positions(conn, units);
  if (!positions) return std::unexpected(positions.error());
  auto usage = nats::read_stream_usage(js, stream);
  if (!usage) return std::unexpected(usage.error());
  UnitsReading out{.stream = stream, .stream_last_seq = usage->last_seq, .read_at = utc_now()};
  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (auto& p : *positions) {
    UnitLag u{.held_here = held.contains(p.unit), .position = std::max(p.checkpoint, p.watermark)};
    u.unit = std::move(p);
    u.lag_messages = usage->last_seq > u.position ? usage->last_seq - u.position : 0;
    if (u.lag_messages > 0) {
      // The first message past the position the stream still holds.
      const std::uint64_t first = std::max(u.position + 1, usage->first_seq);
      if (auto t = stream_message_time(js, stream, StreamSeq{first}); t && *t) {
        u.oldest_unfolded_age_seconds =
            std::max<double>(0, static_cast<double>(now_ns - **t) / 1e9);
      }
    }
    out.units.push_back(std::move(u));
  }
  return out;
}

void UnitsReport::update(UnitsReading reading) {
  std::lock_guard lock(mu_);
  last_ = std::move(reading);
}

std::string UnitsReport::render_json() const {
  namespace json = boost::json;
  std::lock_guard lock(mu_);
  json::object body;
  body["stream"] = last_.stream;
  body["stream_last_seq"] = last_.stream_last_seq;
  body["read_at"] = last_.read_at;
  json::array units;
  for (const auto& u : last_.units) {
    json::object o;
    o["unit"] = u.unit.unit;
    if (u.unit.owner) {
      o["owner"] = json::object{{"application_name", u.unit.owner->application_name},
                                {"backend_pid", u.unit.owner->backend_pid},
                                {"client_addr", u.unit.owner->client_addr},
                                {"since", u.unit.owner->backend_start}};
    } else {
      o["owner"] = nullptr;
    }
    o["held_here"] = u.held_here;
    o["checkpoint"] = u.unit.checkpoint;
    o["watermark"] = u.unit.watermark;
    o["lag_messages"] = u.lag_messages;
    if (u.oldest_unfolded_age_seconds) {
      o["oldest_unfolded_age_seconds"] = *u.oldest_unfolded_age_seconds;
    } else {
      o["oldest_unfolded_age_seconds"] = nullptr;
    }
    units.push_back(std::move(o));
  }
  body["units"] = std::move(units);
  return json::serialize(body) + "\n";
}

}  // namespace rmm::projector
