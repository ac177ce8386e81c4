// The Windows binary swap (updater/install.h, updater/platform/windows/file_swap_windows.cc) on a
// binary that is running while it is replaced and rolled back.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <vector>

#include "common/platform/windows/windows_api.h"
#include "tests/windows/win_test_support.h"
#include "updater/install.h"
#include "updater/release/manifest.h"

namespace rmm::updater {
namespace {

namespace fs = std::filesystem;
using wintest::TempDir;

std::vector<std::uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Starts `exe --ignore-stop` (the stop helper never exits on its own); killed at scope end.
class Running {
 public:
  explicit Running(const fs::path& exe) {
    std::wstring line = L"\"" + exe.wstring() + L"\" --ignore-stop";
    STARTUPINFOW si{};
    si.cb = sizeof(si);
    PROCESS_INFORMATION pi{};
    REQUIRE(::CreateProcessW(exe.c_str(), line.data(), nullptr, nullptr, FALSE, CREATE_NO_WINDOW,
                             nullptr, nullptr, &si, &pi));
    ::CloseHandle(pi.hThread);
    process_ = pi.hProcess;
  }
  ~Running() {
    ::TerminateProcess(process_, 1);
    ::WaitForSingleObject(process_, 10'000);
    ::CloseHandle(process_);
  }
  bool alive() const { return ::WaitForSingleObject(process_, 0) == WAIT_TIMEOUT; }

 private:
  HANDLE process_ = nullptr;
};

// An agent directory with a runnable old binary and a new release (the same program with a
// trailer, so the two are told apart byte for byte and both still run).
struct Install {
  TempDir dir;
  fs::path bin = dir.path() / "rmm-agent.exe";
  std::vector<std::uint8_t> old_bytes;
  std::vector<std::uint8_t> new_bytes;

  Install() {
    fs::copy_file(wintest::stop_helper_exe(), bin);
    old_bytes = read_bytes(bin);
    REQUIRE(old_bytes.size() > 1000);
    new_bytes = old_bytes;
    for (char c : std::string_view("rmm-test-release-v2"))
      new_bytes.push_back(static_cast<std::uint8_t>(c));
  }
};

TEST_CASE("a running binary is replaced and the old one kept") {
  Install in;
  Running old(in.bin);
  REQUIRE(stage(in.bin, in.new_bytes));
  CHECK(read_bytes(staged_path(in.bin)) == in.new_bytes);

  // Why the swap renames: a Linux-style rename over the running image is refused (Wine agrees).
  CHECK_FALSE(
      ::MoveFileExW(staged_path(in.bin).c_str(), in.bin.c_str(), MOVEFILE_REPLACE_EXISTING));
  CHECK(::GetLastError() == ERROR_ACCESS_DENIED);

  REQUIRE(swap_in(in.bin));
  CHECK(read_bytes(in.bin) == in.new_bytes);
  CHECK(read_bytes(previous_path(in.bin)) == in.old_bytes);
  CHECK_FALSE(fs::exists(staged_path(in.bin)));
  CHECK(old.alive());
  Running fresh(in.bin);  // the new binary starts under the original name
  CHECK(fresh.alive());
}

TEST_CASE("rolling back puts the previous binary back while the failed one still runs") {
  Install in;
  {
    Running old(in.bin);
    REQUIRE(stage(in.bin, in.new_bytes));
    REQUIRE(swap_in(in.bin));
  }
  Running failed(in.bin);
  REQUIRE(restore_previous(in.bin));
  CHECK(read_bytes(in.bin) == in.old_bytes);
  CHECK(read_bytes(previous_path(in.bin)) == in.old_bytes);  // kept for a later rollback
  fs::path failed_path = in.bin;
  failed_path += ".failed";
  CHECK(read_bytes(failed_path) == in.new_bytes);
  CHECK(failed.alive());
  Running restored(in.bin);
  CHECK(restored.alive());
}

TEST_CASE("a second update replaces the previous binary of the first") {
  Install in;
  REQUIRE(stage(in.bin, in.new_bytes));
  REQUIRE(swap_in(in.bin));
  auto third = in.new_bytes;
  third.push_back('3');
  REQUIRE(stage(in.bin, third));
  REQUIRE(swap_in(in.bin));
  CHECK(read_bytes(in.bin) == third);
  CHECK(read_bytes(previous_path(in.bin)) == in.new_bytes);
}

TEST_CASE("without a previous binary there is nothing to roll back to") {
  Install in;
  auto st = restore_previous(in.bin);
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find(".prev") != std::string::npos);
  CHECK(read_bytes(in.bin) == in.old_bytes);
}

TEST_CASE("a failed install leaves the old binary in place") {
  Install in;
  // Nothing staged: the move of <bin>.new fails after <bin> was renamed aside.
  auto st = swap_in(in.bin);
  REQUIRE_FALSE(st);
  CHECK(read_bytes(in.bin) == in.old_bytes);
}

TEST_CASE("the host architecture is named as on Linux") {
  const auto arch = release::host_arch();
  CHECK((arch == "x86_64" || arch == "aarch64"));
}

}  // namespace
}  // namespace rmm::updater
