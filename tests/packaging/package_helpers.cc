#include "tests/packaging/package_helpers.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/fixtures/shell.h"

namespace rmm::test::packaging {

namespace fs = std::filesystem;

ShResult sh(const std::string& command) {
  auto r = run_shell(command);
  return {.code = r.exit_code, .output = std::move(r.output)};
}

std::string quote(const fs::path& p) {
  return shell_quote(p.string());
}

std::set<std::string> deb_paths(const fs::path& deb) {
  auto listed = sh("dpkg-deb -c " + quote(deb));
  if (listed.code != 0) throw std::runtime_error("dpkg-deb -c: " + listed.output);
  std::set<std::string> paths;
  std::istringstream in(listed.output);
  for (std::string line; std::getline(in, line);) {
    auto at = line.find(" ./");
    if (at == std::string::npos) continue;
    std::string path = line.substr(at + 3);
    if (auto arrow = path.find(" -> "); arrow != std::string::npos) path.resize(arrow);
    while (!path.empty() && path.back() == '/') path.pop_back();
    if (!path.empty()) paths.insert(path);
  }
  return paths;
}

std::string deb_field(const fs::path& deb, const std::string& field) {
  auto r = sh("dpkg-deb -f " + quote(deb) + " " + field);
  return r.code == 0 ? r.output : std::string{};
}

Unit read_unit(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  Unit u;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("User=")) u.user = line.substr(5);
    if (line.starts_with("EnvironmentFile=")) {
      std::string v = line.substr(16);
      u.environment_file_optional = v.starts_with("-");
      u.environment_file = u.environment_file_optional ? v.substr(1) : v;
    }
    if (line.starts_with("ExecStart=")) {
      std::istringstream words(line.substr(10));
      for (std::string w; words >> w;) u.exec_start.push_back(w);
    }
  }
  return u;
}

std::vector<std::pair<std::string, std::string>> read_env_file(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::vector<std::pair<std::string, std::string>> env;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.starts_with("#")) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    env.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return env;
}

fs::path server_deb() {
  return RMM_SERVER_DEB;
}
fs::path agent_deb() {
  return RMM_AGENT_DEB;
}

}  // namespace rmm::test::packaging
