// Parsing of the subjects the projector consumes. The broker vouches for the subject (an agent can
// only publish under its own id), so the subject's agent id is the authority the envelope is
// checked against.
#pragma once

#include <string>
#include <string_view>

#include "common/ids.h"
#include "common/result.h"

namespace rmm::projector {

enum class SubjectKind {
  kAgentEvent,    // rmm.p.<k>.evt.<agent id>.<type token>
  kControlEvent,  // rmm.ctl.<aggregate>.<type token>
};

struct EventSubject {
  SubjectKind kind = SubjectKind::kAgentEvent;
  int partition = 0;  // agent events only
  AgentId agent;      // agent events only
  std::string type_token;
};

// Rejects anything else, including agent events whose agent token is not a canonical UUID.
Result<EventSubject> parse_event_subject(std::string_view subject);

}  // namespace rmm::projector
