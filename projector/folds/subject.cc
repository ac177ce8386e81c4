#include "projector/folds/subject.h"

#include <fmt/format.h>

#include <vector>

namespace rmm::projector {
namespace {

constexpr std::size_t kMaxSubjectBytes = 512;
constexpr int kMaxPartition = 9999;

std::vector<std::string_view> split_tokens(std::string_view subject) {
  std::vector<std::string_view> tokens;
  std::size_t start = 0;
  for (;;) {
    auto dot = subject.find('.', start);
    tokens.push_back(subject.substr(start, dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return tokens;
}

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool valid_type_token(std::string_view token) {
  if (token.empty() || token.size() > 64) return false;
  for (char c : token) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

}  // namespace

Result<EventSubject> parse_event_subject(std::string_view subject) {
  auto bad = [&](std::string_view why) {
    return fail(Error::Code::kInvalidInput, fmt::format("subject: {}", why));
  };
  if (subject.size() > kMaxSubjectBytes) return bad("too long");
  auto tokens = split_tokens(subject);
  for (auto t : tokens) {
    if (t.empty()) return bad("empty token");
  }
  if (tokens.size() == 6 && tokens[0] == "rmm" && tokens[1] == "p" && tokens[3] == "evt") {
    EventSubject out;
    auto k = tokens[2];
    if (k.size() > 4) return bad("partition out of range");
    for (char c : k) {
      if (c < '0' || c > '9') return bad("partition is not a number");
      out.partition = out.partition * 10 + (c - '0');
    }
    if (out.partition > kMaxPartition) return bad("partition out of range");
    auto agent = AgentId::parse(tokens[4]);
    if (!agent) return bad("agent token is not a UUID");
    out.agent = *agent;
    if (!valid_type_token(tokens[5])) return bad("malformed event type token");
    out.type_token = std::string(tokens[5]);
    return out;
  }
  if (tokens.size() == 4 && tokens[0] == "rmm" && tokens[1] == "ctl") {
    if (!valid_type_token(tokens[3])) return bad("malformed event type token");
    return EventSubject{.kind = SubjectKind::kControlEvent,
                        .partition = 0,
                        .agent = AgentId(),
                        .type_token = std::string(tokens[3])};
  }
  return bad("not rmm.p.<k>.evt.<agent>.<type> or rmm.ctl.<aggregate>.<type>");
}

}  // namespace rmm::projector
