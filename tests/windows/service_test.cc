// Windows services (common/service_host.h) through Wine's service control manager, the default
// state directory, and its administrators-only ACL (common/secure_dir.h) read back.
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/install_paths.h"
#include "common/platform/windows/state_dir_acl.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"
#include "common/secure_dir.h"
#include "common/service_host.h"
#include "tests/windows/win_test_support.h"

// After windows_api.h: GetNamedSecurityInfoW.
#include <aclapi.h>
#include <sddl.h>

namespace rmm {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using wintest::TempDir;

constexpr int kHelperStopped = 7;  // tests/windows/stop_helper.cc

struct Sids {
  std::array<unsigned char, SECURITY_MAX_SID_SIZE> system{}, admins{};
  Sids() {
    DWORD size = system.size();
    REQUIRE(::CreateWellKnownSid(WinLocalSystemSid, nullptr, system.data(), &size));
    size = admins.size();
    REQUIRE(::CreateWellKnownSid(WinBuiltinAdministratorsSid, nullptr, admins.data(), &size));
  }
};

struct AceView {
  BYTE type;
  BYTE flags;
  ACCESS_MASK mask;
  PSID sid;
};

std::vector<AceView> aces_of(ACL* acl) {
  std::vector<AceView> aces;
  for (DWORD i = 0; i < acl->AceCount; ++i) {
    void* ace = nullptr;
    REQUIRE(::GetAce(acl, i, &ace));
    auto* header = static_cast<ACE_HEADER*>(ace);
    auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
    aces.push_back({header->AceType, header->AceFlags, allowed->Mask, &allowed->SidStart});
  }
  return aces;
}

// The DACL of `path` as read back from the file system.
struct FileDacl {
  PSECURITY_DESCRIPTOR sd = nullptr;
  std::vector<AceView> aces;
  bool is_protected = false;

  explicit FileDacl(const fs::path& path) {
    PACL dacl = nullptr;
    std::wstring p = path.wstring();
    const DWORD rc = ::GetNamedSecurityInfoW(p.data(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION,
                                             nullptr, nullptr, &dacl, nullptr, &sd);
    REQUIRE(rc == ERROR_SUCCESS);
    REQUIRE(dacl != nullptr);
    SECURITY_DESCRIPTOR_CONTROL control = 0;
    DWORD revision = 0;
    REQUIRE(::GetSecurityDescriptorControl(sd, &control, &revision));
    is_protected = (control & SE_DACL_PROTECTED) != 0;
    aces = aces_of(dacl);
  }
  ~FileDacl() { ::LocalFree(sd); }
  FileDacl(const FileDacl&) = delete;
  FileDacl& operator=(const FileDacl&) = delete;
};

bool same_sid(PSID a, unsigned char* b) {
  return ::EqualSid(a, b) != FALSE;
}

void check_only_system_and_admins(const std::vector<AceView>& aces, bool inherited) {
  Sids sids;
  for (const auto& ace : aces) {
    wchar_t* text = nullptr;
    ::ConvertSidToStringSidW(ace.sid, &text);
    INFO("ACE type " << int(ace.type) << " flags " << int(ace.flags) << " mask " << ace.mask
                     << " SID " << rmm::win::to_utf8(text ? text : L"?"));
    ::LocalFree(text);
  }
  REQUIRE(aces.size() == 2);
  bool system = false, admins = false;
  for (const auto& ace : aces) {
    CHECK(ace.type == ACCESS_ALLOWED_ACE_TYPE);
    CHECK((ace.mask & FILE_ALL_ACCESS) == FILE_ALL_ACCESS);
    const bool ace_inherited = (ace.flags & INHERITED_ACE) != 0;
    CHECK(ace_inherited == inherited);
    system = system || same_sid(ace.sid, sids.system.data());
    admins = admins || same_sid(ace.sid, sids.admins.data());
  }
  CHECK(system);
  CHECK(admins);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_CASE("the default state directory is GuruRMM under ProgramData") {
  const fs::path dir = rmm::win::to_wide(install_paths::agent_state_dir()).value();
  CHECK(dir.is_absolute());
  CHECK(dir.filename() == L"GuruRMM");
  CHECK(install_paths::agent_state_dir().find("ProgramData") != std::string_view::npos);
}

TEST_CASE("the state directory's ACL names only SYSTEM and Administrators, inheritably") {
  auto dacl = win::state_dir_dacl();
  REQUIRE(dacl);
  auto aces = aces_of(reinterpret_cast<ACL*>(dacl->data()));
  check_only_system_and_admins(aces, false);
  for (const auto& ace : aces) {
    CHECK((ace.flags & OBJECT_INHERIT_ACE) != 0);
    CHECK((ace.flags & CONTAINER_INHERIT_ACE) != 0);
  }
}

TEST_CASE("the state directory read back admits only SYSTEM and Administrators") {
  TempDir tmp;
  const auto dir = tmp.path() / "state";
  fs::create_directories(dir / "outbox");
  { std::ofstream(dir / "outbox" / "000001.log") << "x"; }
  REQUIRE(files::secure_state_dir(dir));
  CHECK(fs::is_directory(dir));
  REQUIRE(files::secure_state_dir(dir));  // again on a secured directory
  { std::ofstream(dir / "agent.creds") << "secret"; }
  // Wine keeps no DACL on files: it maps one to Unix mode bits and reads back a synthesized one
  // (the user, SYSTEM, Everyone), so a read-back proves nothing there.
  if (wintest::under_wine()) {
    MESSAGE("not checked under Wine: it keeps no DACL on files (untested on real Windows)");
    return;
  }
  FileDacl d(dir);
  CHECK(d.is_protected);
  check_only_system_and_admins(d.aces, false);
  check_only_system_and_admins(FileDacl(dir / "agent.creds").aces, true);  // created after
  check_only_system_and_admins(FileDacl(dir / "outbox" / "000001.log").aces, true);  // before
}

// A service of Wine's service control manager running rmm-test-stop-helper.exe through
// rmm::service::run; removed at the end of the scope.
class TestService {
 public:
  explicit TestService(std::string name) : name_(std::move(name)) {
    auto st =
        service::install({.name = name_,
                          .display_name = "GuruRMM test " + name_,
                          .description = "tests/windows/service_test.cc",
                          .command = {wintest::stop_helper_exe().string(), "--service", name_}});
    if (!st) FAIL(st.error().message);
    scm_ = ::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT);
    REQUIRE(scm_ != nullptr);
    handle_ =
        ::OpenServiceW(scm_, rmm::win::to_wide(name_).value().c_str(),
                       SERVICE_START | SERVICE_STOP | SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG);
    REQUIRE(handle_ != nullptr);
  }
  ~TestService() {
    ::CloseServiceHandle(handle_);
    ::CloseServiceHandle(scm_);
    (void)service::uninstall(name_);
  }

  SERVICE_STATUS_PROCESS status() const {
    SERVICE_STATUS_PROCESS s{};
    DWORD needed = 0;
    REQUIRE(::QueryServiceStatusEx(handle_, SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&s),
                                   sizeof(s), &needed));
    return s;
  }
  bool wait_state(DWORD state, std::chrono::milliseconds limit) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (status().dwCurrentState != state) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(50ms);
    }
    return true;
  }
  SC_HANDLE handle() const { return handle_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  SC_HANDLE scm_ = nullptr;
  SC_HANDLE handle_ = nullptr;
};

TEST_CASE("a service starts, runs its main and stops on the SCM's stop request") {
  TestService svc("GuruRMMTestStop");
  // Installed for automatic start, with the program's path quoted (it may hold spaces).
  std::vector<unsigned char> buffer(8192);
  auto* config = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buffer.data());
  DWORD needed = 0;
  REQUIRE(::QueryServiceConfigW(svc.handle(), config, static_cast<DWORD>(buffer.size()), &needed));
  CHECK(config->dwStartType == static_cast<DWORD>(SERVICE_AUTO_START));
  // Restarted by the SCM when it fails.
  std::vector<unsigned char> actions_buffer(8192);
  if (::QueryServiceConfig2W(svc.handle(), SERVICE_CONFIG_FAILURE_ACTIONS, actions_buffer.data(),
                             static_cast<DWORD>(actions_buffer.size()), &needed)) {
    auto* actions = reinterpret_cast<SERVICE_FAILURE_ACTIONSW*>(actions_buffer.data());
    REQUIRE(actions->cActions == 3);
    CHECK(actions->lpsaActions[0].Type == SC_ACTION_RESTART);
    CHECK(actions->lpsaActions[0].Delay == 5'000);
  } else {
    const DWORD error = ::GetLastError();
    REQUIRE(wintest::under_wine());
    MESSAGE("recovery actions not checked: Wine cannot read them back (Win32 error " << error
                                                                                     << ")");
  }
  CHECK(std::wstring(config->lpBinaryPathName).find(L"rmm-test-stop-helper.exe") !=
        std::wstring::npos);

  const fs::path log = fs::path(rmm::win::to_wide(install_paths::agent_state_dir()).value()) /
                       (rmm::win::to_wide(svc.name()).value() + L".log");
  std::error_code ec;
  fs::remove(log, ec);
  REQUIRE(::StartServiceW(svc.handle(), 0, nullptr));
  REQUIRE(svc.wait_state(SERVICE_RUNNING, 30s));
  const DWORD pid = svc.status().dwProcessId;
  CHECK(pid != 0);
  SERVICE_STATUS ignored{};
  REQUIRE(::ControlService(svc.handle(), SERVICE_CONTROL_STOP, &ignored));
  REQUIRE(svc.wait_state(SERVICE_STOPPED, 30s));
  const auto s = svc.status();
  // The helper's exit code 7 reaches the SCM as a service-specific error (a failure, so the
  // recovery actions would restart it).
  CHECK(s.dwWin32ExitCode == static_cast<DWORD>(ERROR_SERVICE_SPECIFIC_ERROR));
  CHECK(s.dwServiceSpecificExitCode == static_cast<DWORD>(kHelperStopped));
  // Its log went to <state dir>\<name>.log.
  const auto text = read_file(log);
  CHECK(text.find("service.stop_requested") != std::string::npos);
  CHECK(text.find("service.stopped") != std::string::npos);
}

TEST_CASE("installing again reconfigures; removing twice reports the missing service") {
  {
    TestService svc("GuruRMMTestTwice");
    REQUIRE(service::install(
        {.name = svc.name(),
         .display_name = "again",
         .description = "again",
         .command = {wintest::stop_helper_exe().string(), "--service", svc.name(), "--again"}}));
    std::vector<unsigned char> buffer(8192);
    auto* config = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buffer.data());
    DWORD needed = 0;
    REQUIRE(
        ::QueryServiceConfigW(svc.handle(), config, static_cast<DWORD>(buffer.size()), &needed));
    CHECK(std::wstring(config->lpBinaryPathName).find(L"--again") != std::wstring::npos);
  }
  auto st = service::uninstall("GuruRMMTestTwice");
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Error::Code::kNotFound);
}

TEST_CASE("started outside the SCM, a service program runs as a console program") {
  std::wstring line = L"\"" + wintest::stop_helper_exe().wstring() + L"\" --service GuruRMMNone";
  STARTUPINFOW si{};
  si.cb = sizeof(si);
  PROCESS_INFORMATION pi{};
  REQUIRE(::CreateProcessW(nullptr, line.data(), nullptr, nullptr, FALSE, CREATE_NO_WINDOW, nullptr,
                           nullptr, &si, &pi));
  ::CloseHandle(pi.hThread);
  // It listens for its stop event like any of our programs, and exits on it.
  const std::wstring event_name = L"GuruRMMStop-" + std::to_wstring(pi.dwProcessId);
  HANDLE event = nullptr;
  for (int i = 0; i < 500 && event == nullptr; ++i) {
    for (const wchar_t* prefix : {L"Global\\", L""}) {
      if (event == nullptr) {
        event = ::OpenEventW(EVENT_MODIFY_STATE, FALSE, (prefix + event_name).c_str());
      }
    }
    if (event == nullptr) std::this_thread::sleep_for(20ms);
  }
  REQUIRE(event != nullptr);
  ::SetEvent(event);
  ::CloseHandle(event);
  CHECK(::WaitForSingleObject(pi.hProcess, 20'000) == WAIT_OBJECT_0);
  DWORD code = 0;
  ::GetExitCodeProcess(pi.hProcess, &code);
  ::CloseHandle(pi.hProcess);
  CHECK(code == static_cast<DWORD>(kHelperStopped));
}

}  // namespace
}  // namespace rmm
