// The atomic binary swap: stage, swap in (keeping the previous binary), restore.
#include "updater/install.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using rmm::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string content(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

TEST_CASE("stage, swap in and restore keep a whole binary in place at every step") {
  TempDir dir("install");
  fs::path bin = dir / "rmm-agent";
  std::ofstream(bin) << "A";
  std::string b = "B build";
  REQUIRE(updater::stage(bin, as_bytes(b)).has_value());
  CHECK(content(bin) == "A");
  struct stat st {};
  REQUIRE(::stat(updater::staged_path(bin).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0755);
  REQUIRE(updater::swap_in(bin).has_value());
  CHECK(content(bin) == "B build");
  CHECK(content(updater::previous_path(bin)) == "A");
  CHECK_FALSE(fs::exists(updater::staged_path(bin)));
  REQUIRE(updater::restore_previous(bin).has_value());
  CHECK(content(bin) == "A");
  CHECK(content(updater::previous_path(bin)) == "A");
  CHECK(content(dir / "rmm-agent.failed") == "B build");
}

TEST_CASE("restore fails without a previous binary") {
  TempDir dir("install_none");
  fs::path bin = dir / "rmm-agent";
  std::ofstream(bin) << "A";
  CHECK_FALSE(updater::restore_previous(bin).has_value());
  CHECK(content(bin) == "A");
}
