#include "tools/replay/selection.h"

#include "admin/partition.h"
#include "common/event_codec.h"
#include "common/time_text.h"

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
  return parse_time_text(text, now);
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
