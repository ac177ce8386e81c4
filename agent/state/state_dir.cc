#include "agent/state/state_dir.h"

#include "common/files.h"
#include "common/secure_dir.h"

namespace rmm::agent {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

Result<StateDir> StateDir::open(const std::filesystem::path& dir) {
  StateDir s;
  s.dir_ = dir;
  if (auto st = files::secure_state_dir(dir); !st) return std::unexpected(st.error());
  auto id_text = files::read_all(dir / "agent_id");
  if (!id_text) {
    return failf("agent is not enrolled: {} is missing (run rmm-agent enroll)",
                 (dir / "agent_id").string());
  }
  auto id = AgentId::parse(trim(*id_text));
  if (!id) return failf("{}: {}", (dir / "agent_id").string(), id.error().message);
  s.agent_id_ = *id;
  if (!std::filesystem::exists(s.creds_path())) {
    return failf("agent credential {} is missing", s.creds_path().string());
  }
  return s;
}

}  // namespace rmm::agent
