#include "tests/windows/e2e/wine_prefix.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "common/files.h"

namespace rmm::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

WinePrefix::WinePrefix(fs::path wine64) : wine64_(std::move(wine64)) {
  fs::create_directories(dir_ / "prefix");
}

WinePrefix::~WinePrefix() {
  // Every process of the prefix (the agent, its commands) and the wineserver itself.
  run_logged({.program = (wine64_.parent_path() / "wineserver").string(),
              .args = {"-k"},
              .env = env(),
              .log_file = dir_ / "wineserver-kill.log"},
             30s);
}

std::vector<std::pair<std::string, std::string>> WinePrefix::env() const {
  return {{"WINEPREFIX", (dir_ / "prefix").string()},
          {"WINEDEBUG", "-all"},
          {"WINEDLLOVERRIDES", "mscoree,mshtml="}};
}

CommandResult WinePrefix::run(const std::vector<std::string>& args, std::chrono::seconds limit) {
  return run_logged({.program = wine64_.string(),
                     .args = args,
                     .env = env(),
                     .log_file = dir_ / fmt::format("run-{}.log", ++runs_)},
                    limit);
}

Process WinePrefix::start(const std::vector<std::string>& args, const fs::path& log_file) {
  return Process::start(
      {.program = wine64_.string(), .args = args, .env = env(), .log_file = log_file});
}

void WinePrefix::import_registry(const std::string& body) {
  const fs::path file = dir_ / fmt::format("import-{}.reg", runs_ + 1);
  // REGEDIT4: Wine's reg import takes hex(1) data as ANSI bytes only in a file of that version.
  auto written = files::write_atomic(file, "REGEDIT4\r\n\r\n" + body);
  if (!written) throw std::runtime_error(written.error().message);
  auto r = run({"reg", "import", windows_path(file)});
  if (r.exit_code != 0) {
    throw std::runtime_error(fmt::format("wine reg import failed ({}): {}", r.exit_code, r.output));
  }
}

std::vector<int> WinePrefix::processes(std::string_view needle) const {
  const auto lower = [](std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  };
  const std::string marker = "WINEPREFIX=" + (dir_ / "prefix").string();
  const std::string wanted = lower(std::string(needle));
  std::vector<int> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    // Read errors: a process that ended meanwhile.
    std::string environ = files::read_all(entry.path() / "environ").value_or("");
    std::replace(environ.begin(), environ.end(), '\0', '\n');
    if (("\n" + environ + "\n").find("\n" + marker + "\n") == std::string::npos) continue;
    std::string cmdline = files::read_all(entry.path() / "cmdline").value_or("");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (lower(cmdline).find(wanted) != std::string::npos) out.push_back(std::stoi(name));
  }
  return out;
}

std::string windows_path(const fs::path& path) {
  std::string out = "Z:" + fs::absolute(path).string();
  for (char& c : out) {
    if (c == '/') c = '\\';
  }
  return out;
}

std::string reg_sz_hex(std::string_view text) {
  std::string out = "hex(1):";
  for (char c : text) out += fmt::format("{:02x},", static_cast<unsigned char>(c));
  return out + "00";
}

}  // namespace rmm::test
