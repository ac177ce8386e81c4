#include "tools/replay/selection.h"

#include <charconv>
#include <ctime>

#include "admin/partition.h"
#include "common/config.h"
#include "common/event_codec.h"

namespace rmm::replay {

namespace {

std::vector<std::string_view> tokens(std::string_view subject) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    auto dot = subject.find('.', start);
    out.push_back(subject.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string filter_subject(const Selection& selection) {
  std::string type = selection.types.size() == 1 ? selection.types.front() : "*";
  if (selection.agents.size() == 1) {
    std::string agent = selection.agents.front().str();
    int k = broker::partition_of(agent, broker::kEventPartitions);
    return "rmm.p." + std::to_string(k) + ".evt." + agent + "." + type;
  }
  if (selection.agents_selected) return "rmm.p.*.evt.*." + type;
  // One agent event type: only agent subjects can hold it. A control type, or several types,
  // are filtered per message.
  if (type != "*" && codec::payload_for_token(type)) return "rmm.p.*.evt.*." + type;
  return "";
}

SubjectMatcher::SubjectMatcher(const Selection& selection)
    : agents_selected_(selection.agents_selected) {
  for (const auto& a : selection.agents) agents_.insert(a.str());
  for (const auto& t : selection.types) types_.insert(t);
}

bool SubjectMatcher::matches(std::string_view subject) const {
  if (!types_.empty() && !types_.contains(std::string(subject_type(subject)))) return false;
  if (agents_selected_) {
    auto agent = subject_agent(subject);
    if (agent.empty() || !agents_.contains(std::string(agent))) return false;
  }
  return true;
}

std::string_view subject_agent(std::string_view subject) {
  auto t = tokens(subject);
  if (t.size() == 6 && t[0] == "rmm" && t[1] == "p" && t[3] == "evt") return t[4];
  if (t.size() == 4 && t[0] == "rmm" && t[1] == "evt") return t[2];
  return {};
}

std::string_view subject_type(std::string_view subject) {
  auto dot = subject.rfind('.');
  return dot == std::string_view::npos ? subject : subject.substr(dot + 1);
}

Result<UnixNanos> parse_time(std::string_view text, UnixNanos now) {
  if (text == "now") return now;
  if (all_digits(text) && text.size() > 10) {
    UnixNanos v = 0;
    std::from_chars(text.data(), text.data() + text.size(), v);
    return v;
  }
  if (!text.empty() && text.front() != '-' && (text.back() < '0' || text.back() > '9') &&
      text.find('-') == std::string_view::npos) {
    auto age = config::parse_duration(text);
    if (!age) return failf("time '{}': {}", text, age.error().message);
    return now - std::chrono::duration_cast<std::chrono::nanoseconds>(*age).count();
  }
  // RFC 3339 or a bare date.
  std::tm tm{};
  std::string s(text);
  const char* rest = nullptr;
  if (s.size() == 10) {
    rest = strptime(s.c_str(), "%Y-%m-%d", &tm);
  } else {
    rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  }
  if (rest == nullptr)
    return failf("time '{}': expected RFC 3339, a date, Unix ns or an age", text);
  std::int64_t secs = timegm(&tm);
  std::int64_t nanos = 0;
  std::string_view tail(rest);
  if (!tail.empty() && tail.front() == '.') {
    tail.remove_prefix(1);
    std::int64_t scale = 100'000'000;
    while (!tail.empty() && tail.front() >= '0' && tail.front() <= '9') {
      nanos += (tail.front() - '0') * scale;
      scale /= 10;
      tail.remove_prefix(1);
    }
  }
  if (tail == "Z" || tail.empty()) {
  } else if ((tail.front() == '+' || tail.front() == '-') && tail.size() == 6 && tail[3] == ':') {
    int hh = (tail[1] - '0') * 10 + (tail[2] - '0');
    int mm = (tail[4] - '0') * 10 + (tail[5] - '0');
    std::int64_t offset = (hh * 60 + mm) * 60;
    secs += tail.front() == '+' ? -offset : offset;
  } else {
    return failf("time '{}': bad zone suffix '{}'", text, tail);
  }
  return secs * 1'000'000'000 + nanos;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace rmm::replay
