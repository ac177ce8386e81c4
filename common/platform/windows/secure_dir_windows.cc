#include <array>

#include "common/platform/windows/state_dir_acl.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"
#include "common/secure_dir.h"

// After windows_api.h: SetNamedSecurityInfoW.
#include <aclapi.h>

namespace rmm {
namespace {

using Sid = std::array<unsigned char, SECURITY_MAX_SID_SIZE>;

Result<Sid> well_known_sid(WELL_KNOWN_SID_TYPE type) {
  Sid sid{};
  DWORD size = sid.size();
  if (!::CreateWellKnownSid(type, nullptr, sid.data(), &size)) {
    return std::unexpected(rmm::win::last_error("CreateWellKnownSid"));
  }
  return sid;
}

}  // namespace

Result<std::vector<unsigned char>> win::state_dir_dacl() {
  auto system = well_known_sid(WinLocalSystemSid);
  if (!system) return std::unexpected(system.error());
  auto admins = well_known_sid(WinBuiltinAdministratorsSid);
  if (!admins) return std::unexpected(admins.error());
  DWORD size = sizeof(ACL);
  for (Sid* sid : {&*system, &*admins}) {
    size += sizeof(ACCESS_ALLOWED_ACE) - sizeof(DWORD) + ::GetLengthSid(sid->data());
  }
  std::vector<unsigned char> buffer(size);
  auto* acl = reinterpret_cast<ACL*>(buffer.data());
  if (!::InitializeAcl(acl, size, ACL_REVISION)) {
    return std::unexpected(rmm::win::last_error("InitializeAcl"));
  }
  // Inherited by files and subdirectories (the outbox, the journal) created later.
  constexpr DWORD kInherit = OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE;
  for (Sid* sid : {&*system, &*admins}) {
    if (!::AddAccessAllowedAceEx(acl, ACL_REVISION, kInherit, FILE_ALL_ACCESS, sid->data())) {
      return std::unexpected(rmm::win::last_error("AddAccessAllowedAceEx"));
    }
  }
  return buffer;
}

Status files::secure_state_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return failf("creating directory {}: {}", dir.string(), ec.message());
  auto dacl = win::state_dir_dacl();
  if (!dacl) return std::unexpected(dacl.error());
  // PROTECTED: the parent's entries (ProgramData lets Users read and create) no longer apply.
  // SetNamedSecurityInfoW also propagates the new entries to what the directory already holds.
  std::wstring path = dir.wstring();
  const DWORD rc = ::SetNamedSecurityInfoW(
      path.data(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
      nullptr, nullptr, reinterpret_cast<ACL*>(dacl->data()), nullptr);
  if (rc != ERROR_SUCCESS) {
    return std::unexpected(
        win::win32_error(fmt::format("restricting access to {}", dir.string()), rc));
  }
  return {};
}

}  // namespace rmm
