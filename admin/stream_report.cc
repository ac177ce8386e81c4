#include "admin/stream_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>

#include "common/files.h"
#include "common/nats_message.h"

namespace rmm::broker {
namespace {

namespace fs = std::filesystem;

// "45s", "3h", "12d": how long ago `t` was, in its largest whole unit.
std::string age_text(UnixNanos now, UnixNanos t) {
  const std::int64_t s = std::max<std::int64_t>(0, (now - t) / 1'000'000'000);
  if (s >= 2 * 86'400) return fmt::format("{}d", s / 86'400);
  if (s >= 2 * 3'600) return fmt::format("{}h", s / 3'600);
  if (s >= 2 * 60) return fmt::format("{}m", s / 60);
  return fmt::format("{}s", s);
}

std::string limit_text(const nats::StreamUsage& u) {
  if (u.max_bytes > 0) return nats::format_bytes(static_cast<double>(u.max_bytes));
  if (u.max_msgs > 0) return fmt::format("{} msgs", u.max_msgs);
  return "none";
}

std::string max_age_text(const nats::StreamUsage& u) {
  if (u.max_age_ns <= 0) return "for ever";
  return fmt::format("{}d", u.max_age_ns / 86'400'000'000'000LL);
}

}  // namespace

Result<std::vector<std::string>> stream_names(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  if (ec) return failf("reading {}: {}", dir.string(), ec.message());
  std::sort(files.begin(), files.end());
  std::vector<std::string> names;
  for (const auto& path : files) {
    auto text = files::read_all(path);
    if (!text) return std::unexpected(text.error());
    boost::system::error_code jec;
    auto v = boost::json::parse(*text, jec);
    const boost::json::value* name =
        !jec && v.is_object() ? v.as_object().if_contains("name") : nullptr;
    if (name == nullptr || !name->is_string()) {
      return failf("{}: not a stream definition with a \"name\"", path.string());
    }
    names.emplace_back(name->as_string());
  }
  return names;
}

Result<UsageReport> stream_usage_report(natsConnection* nc, const std::vector<std::string>& names,
                                        const nats::UsageThresholds& thresholds, UnixNanos now) {
  jsCtx* js = nullptr;
  if (natsStatus s = natsConnection_JetStream(&js, nc, nullptr); s != NATS_OK) {
    return std::unexpected(nats::to_error(s, "JetStream context"));
  }
  UsageReport report{.text = "", .healthy = true};
  std::string notes;
  report.text = fmt::format("{:<14} {:>10} {:>11} {:>11} {:>6}  {:<7} {:>7}  {}\n", "STREAM",
                            "MESSAGES", "BYTES", "LIMIT", "USED", "DISCARD", "OLDEST", "MAX AGE");
  for (const auto& name : names) {
    auto u = nats::read_stream_usage(js, name);
    if (!u) {
      report.healthy = false;
      notes += fmt::format("error: {}: {}\n", name,
                           u.error().code == Error::Code::kNotFound
                               ? "missing (rmm-admin apply-streams creates it)"
                               : u.error().message);
      continue;
    }
    report.text +=
        fmt::format("{:<14} {:>10} {:>11} {:>11} {:>5.1f}%  {:<7} {:>7}  {}\n", u->name,
                    u->messages, nats::format_bytes(static_cast<double>(u->bytes)), limit_text(*u),
                    u->used_fraction() * 100, u->discard_new ? "new" : "old",
                    u->first_time > 0 ? age_text(now, u->first_time) : "-", max_age_text(*u));
    for (const auto& w : nats::usage_warnings(*u, thresholds)) {
      report.healthy = false;
      notes += fmt::format("{}: {}\n", w.severity == nats::Severity::kError ? "error" : "warning",
                           w.text);
    }
  }
  jsCtx_Destroy(js);
  report.text += notes;
  return report;
}

}  // namespace rmm::broker
