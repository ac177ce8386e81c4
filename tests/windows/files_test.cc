// The file writes of common/files.h on Windows: atomic replace, create-new, directories.
#include "common/files.h"

#include <doctest/doctest.h>
#include <process.h>

#include <filesystem>

#include "common/agent_local.h"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(std::string_view name) {
  auto dir = fs::temp_directory_path() / "rmm-files-test" / name;
  fs::remove_all(dir);
  REQUIRE(rmm::files::ensure_dir(dir));
  return dir;
}

}  // namespace

TEST_CASE("write_atomic replaces the content and leaves no temp file") {
  auto dir = fresh_dir("atomic");
  auto path = dir / "state.txt";
  REQUIRE(rmm::files::write_atomic(path, "one"));
  REQUIRE(rmm::files::write_atomic(path, "two, longer"));
  CHECK(rmm::files::read_all(path).value() == "two, longer");
  CHECK_FALSE(fs::exists(dir / "state.txt.tmp"));
}

TEST_CASE("write_new never overwrites") {
  auto dir = fresh_dir("new");
  auto path = dir / "key";
  REQUIRE(rmm::files::write_new(path, "secret"));
  auto again = rmm::files::write_new(path, "other");
  REQUIRE_FALSE(again);
  CHECK(again.error().message.find("Win32 error 80") != std::string::npos);  // ERROR_FILE_EXISTS
  CHECK(rmm::files::read_all(path).value() == "secret");
}

TEST_CASE("write_replace and the health file") {
  auto dir = fresh_dir("health");
  REQUIRE(rmm::local::write_health(dir, "1.2.3", 4242));
  REQUIRE(rmm::local::write_health(dir, "1.2.4", 4243));
  auto health = rmm::local::read_health(dir);
  REQUIRE(health);
  CHECK(health->version == "1.2.4");
  CHECK(health->pid == 4243);
}

TEST_CASE("this process is alive, a made-up pid is not") {
  CHECK(rmm::local::process_alive(static_cast<pid_t>(::_getpid())));
  CHECK(rmm::local::process_exists(static_cast<pid_t>(::_getpid())));
  CHECK_FALSE(rmm::local::process_alive(0));
  CHECK_FALSE(rmm::local::process_alive(0x7ffffff0));
}
