// The inbox prefix of each control-plane service (natsOptions_SetCustomInboxPrefix): every reply
// a service waits for (JetStream acks, API answers, consumer deliveries) arrives under it, and its
// credential (admin/identity.cc) may subscribe there only, so no service can read another's
// replies or an agent's (`_INBOX.<agent id>.>`). A whole subject token, as JWT permissions need.
#pragma once

#include <string_view>

namespace rmm::nats {

inline constexpr std::string_view kApiInboxPrefix = "_INBOX_API";
inline constexpr std::string_view kProjectorInboxPrefix = "_INBOX_PROJECTOR";
inline constexpr std::string_view kRolloutInboxPrefix = "_INBOX_ROLLOUT";

}  // namespace rmm::nats
