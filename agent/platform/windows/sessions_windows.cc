// Users logged on to this machine: console and Remote Desktop sessions with a user.
#include <set>
#include <string>

#include "agent/platform/collectors.h"
#include "agent/platform/windows/sdk_windows.h"
#include "common/platform/windows/wide_text.h"

namespace rmm::agent::platform {
namespace {

// One text property of a session; empty when the session has none (session 0, the listener).
std::wstring session_text(DWORD session, WTS_INFO_CLASS what) {
  wchar_t* buffer = nullptr;
  DWORD bytes = 0;
  std::wstring text;
  if (::WTSQuerySessionInformationW(WTS_CURRENT_SERVER_HANDLE, session, what, &buffer, &bytes) &&
      buffer != nullptr) {
    text = buffer;
  }
  if (buffer != nullptr) ::WTSFreeMemory(buffer);
  return text;
}

}  // namespace

// Distinct users, as Linux counts distinct names in utmp: one user in two sessions counts once.
// A disconnected session still has its user logged on, so it counts.
Status collect_users(SamplerState&, codec::MetricsInfo& out) {
  WTS_SESSION_INFOW* sessions = nullptr;
  DWORD count = 0;
  if (!::WTSEnumerateSessionsW(WTS_CURRENT_SERVER_HANDLE, 0, 1, &sessions, &count)) {
    return std::unexpected(rmm::win::last_error("WTSEnumerateSessionsW"));
  }
  std::set<std::wstring> users;
  for (DWORD i = 0; i < count; ++i) {
    const auto& s = sessions[i];
    if (s.State != WTSActive && s.State != WTSDisconnected) continue;
    std::wstring user = session_text(s.SessionId, WTSUserName);
    if (user.empty()) continue;
    users.insert(session_text(s.SessionId, WTSDomainName) + L"\\" + user);
  }
  ::WTSFreeMemory(sessions);
  out.logged_in_users = static_cast<std::uint32_t>(users.size());
  return {};
}

}  // namespace rmm::agent::platform
