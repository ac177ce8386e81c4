#include "common/update_events.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <system_error>

#include "common/files.h"

namespace rmm::codec {
namespace {

constexpr std::array<std::string_view, 8> kStepNames = {"started",     "downloaded", "verified",
                                                        "refused",     "installed",  "healthy",
                                                        "rolled_back", "failed"};
constexpr std::array<std::string_view, 5> kAlertNames = {"crash_loop", "hang", "memory_limit",
                                                         "cpu_limit", "restarted"};

}  // namespace

std::vector<std::uint8_t> build_update_progress(const AgentEventHeader& h,
                                                const UpdateProgressInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto command = to_wire(v.command.bytes());
  auto p = schema::CreateUpdateProgressDirect(fbb, &command, v.from_version.c_str(),
                                              v.to_version.c_str(), v.step, v.reason.c_str(),
                                              v.detail.c_str());
  return finish_agent_event(fbb, h, schema::Payload::UpdateProgress, p.Union());
}

std::vector<std::uint8_t> build_watchdog_alert(const AgentEventHeader& h,
                                               const WatchdogAlertInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto p = schema::CreateWatchdogAlertDirect(fbb, v.kind, v.restarts, v.window_s, v.detail.c_str(),
                                             v.rss_bytes, v.cpu_percent);
  return finish_agent_event(fbb, h, schema::Payload::WatchdogAlert, p.Union());
}

std::string_view update_step_name(schema::UpdateStep step) {
  auto i = static_cast<std::size_t>(step);
  return i < kStepNames.size() ? kStepNames[i] : std::string_view("unknown");
}

std::string_view watchdog_alert_name(schema::WatchdogAlertKind kind) {
  auto i = static_cast<std::size_t>(kind);
  return i < kAlertNames.size() ? kAlertNames[i] : std::string_view("unknown");
}

}  // namespace rmm::codec

namespace rmm::spool {
namespace {

namespace fs = std::filesystem;
using Fields = std::map<std::string, std::string, std::less<>>;

// One `key=value` line per field; '\\' and '\n' in values are escaped.
std::string escape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string unescape(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      out += v[i + 1] == 'n' ? '\n' : v[i + 1];
      ++i;
    } else {
      out += v[i];
    }
  }
  return out;
}

Fields parse_fields(std::string_view text) {
  Fields f;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    f.emplace(std::string(line.substr(0, eq)), unescape(line.substr(eq + 1)));
  }
  return f;
}

template <class T>
bool number(const Fields& f, std::string_view key, T& out) {
  auto it = f.find(key);
  if (it == f.end()) return false;
  const auto& s = it->second;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string text(const Fields& f, std::string_view key) {
  auto it = f.find(key);
  return it == f.end() ? std::string() : it->second;
}

std::string serialize(const SpooledEvent& event, UnixNanos at) {
  std::string out = fmt::format("at={}\n", at);
  if (const auto* u = std::get_if<codec::UpdateProgressInfo>(&event)) {
    out +=
        fmt::format("type=update_progress\ncommand={}\nfrom={}\nto={}\nstep={}\n", u->command.str(),
                    escape(u->from_version), escape(u->to_version), static_cast<int>(u->step));
    out += fmt::format("reason={}\ndetail={}\n", escape(u->reason), escape(u->detail));
  } else {
    const auto& w = std::get<codec::WatchdogAlertInfo>(event);
    out += fmt::format("type=watchdog_alert\nkind={}\nrestarts={}\nwindow_s={}\n",
                       static_cast<int>(w.kind), w.restarts, w.window_s);
    out += fmt::format("detail={}\nrss={}\ncpu_milli={}\n", escape(w.detail), w.rss_bytes,
                       static_cast<std::int64_t>(w.cpu_percent * 1000.0f));
  }
  return out;
}

Result<SpoolEntry> parse(const fs::path& file, std::string_view content) {
  Fields f = parse_fields(content);
  SpoolEntry e{.file = file};
  if (!number(f, "at", e.occurred_at)) return fail("no time");
  std::string type = text(f, "type");
  if (type == "update_progress") {
    codec::UpdateProgressInfo u;
    auto command = CommandId::parse(text(f, "command"));
    if (!command) return fail("bad command id");
    u.command = *command;
    int step = 0;
    if (!number(f, "step", step) || step < 0 || step > 7) return fail("bad step");
    u.step = static_cast<schema::UpdateStep>(step);
    u.from_version = text(f, "from");
    u.to_version = text(f, "to");
    u.reason = text(f, "reason");
    u.detail = text(f, "detail");
    e.event = std::move(u);
  } else if (type == "watchdog_alert") {
    codec::WatchdogAlertInfo w;
    int kind = 0;
    std::int64_t cpu_milli = 0;
    if (!number(f, "kind", kind) || kind < 0 || kind > 4) return fail("bad kind");
    w.kind = static_cast<schema::WatchdogAlertKind>(kind);
    if (!number(f, "restarts", w.restarts) || !number(f, "window_s", w.window_s) ||
        !number(f, "rss", w.rss_bytes) || !number(f, "cpu_milli", cpu_milli)) {
      return fail("bad numbers");
    }
    w.cpu_percent = static_cast<float>(cpu_milli) / 1000.0f;
    w.detail = text(f, "detail");
    e.event = std::move(w);
  } else {
    return failf("unknown type '{}'", type);
  }
  return e;
}

}  // namespace

fs::path spool_dir(const fs::path& state_dir) {
  return state_dir / "spool";
}

Status write(const fs::path& state_dir, const SpooledEvent& event, UnixNanos occurred_at) {
  auto dir = spool_dir(state_dir);
  if (auto st = files::ensure_dir(dir); !st) return st;
  // Time first so that names sort in order; a random suffix keeps two writers apart.
  auto name = fmt::format("{:020}-{}.ev", occurred_at, EventId::generate(real_clock()).str());
  return files::write_atomic(dir / name, serialize(event, occurred_at));
}

Result<std::vector<SpoolEntry>> list(const fs::path& state_dir, std::vector<fs::path>* bad) {
  std::vector<SpoolEntry> out;
  std::error_code ec;
  auto dir = spool_dir(state_dir);
  if (!fs::exists(dir, ec)) return out;
  std::vector<fs::path> names;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".ev") names.push_back(entry.path());
  }
  if (ec) return failf("listing {}: {}", dir.string(), ec.message());
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    auto content = files::read_all(name);
    auto entry = content ? parse(name, *content) : std::unexpected(content.error());
    if (entry) {
      out.push_back(std::move(*entry));
    } else if (bad != nullptr) {
      bad->push_back(name);
    }
  }
  return out;
}

schema::Payload payload_type(const SpooledEvent& event) {
  return std::holds_alternative<codec::UpdateProgressInfo>(event) ? schema::Payload::UpdateProgress
                                                                  : schema::Payload::WatchdogAlert;
}

std::vector<std::uint8_t> build(const SpoolEntry& entry, const codec::AgentEventHeader& h) {
  codec::AgentEventHeader header = h;
  header.occurred_at = entry.occurred_at;
  if (const auto* u = std::get_if<codec::UpdateProgressInfo>(&entry.event)) {
    return codec::build_update_progress(header, *u);
  }
  return codec::build_watchdog_alert(header, std::get<codec::WatchdogAlertInfo>(entry.event));
}

}  // namespace rmm::spool
