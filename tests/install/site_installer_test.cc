// GET /api/v1/sites/{id}/installer (api/intents/intent_installer.cc) against a real stack: the
// Windows answer is a real MSI (built here by wixl from packaging/windows/gururmm-agent.wxs with
// placeholder programs, so this Linux test needs no Windows build) whose Property table, read back
// with msiinfo, holds the site's SERVERURL, CAPEM, an ENROLLCODE that the install endpoints
// accept and ENROLLCREDS equal to what /install/enroll.creds serves for it; scoping, roles, bad
// input, a missing package, msibuild or credential, and a failing msibuild are clean answers, and
// neither the code nor the credential reaches the log.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <pqxx/pqxx>
#include <regex>

#include "admin/tenancy/enrollment_codes.h"
#include "api/install/windows_installer.h"
#include "common/files.h"
#include "tests/api/intent_stack.h"
#include "tests/fixtures/shell.h"
#include "tests/fixtures/tls_certs.h"
#include "tests/install/stderr_capture.h"

namespace rmm::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using schema::PolicyScope;
using schema::UserRole;

constexpr std::string_view kNatsUrl = "tls://rmm.example.test:4222";
const std::regex kCodeShape("[A-Z2-7]{5}(-[A-Z2-7]{5}){4}");

// The generic package in `dir`: the Windows build's (`tools/rmm windows`, build-windows/ of this
// checkout) when there is one, else one made here by wixl from the tree's .wxs with placeholder
// programs (wixl only packs their bytes), so the Linux build needs no Windows build.
fs::path generic_msi(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(RMM_SOURCE_DIR "/build-windows", ec)) {
    if (api::install::generic_msi_version(e.path().filename().string())) {
      MESSAGE("the Windows build's package: " << e.path().string());
      fs::copy_file(e.path(), dir / e.path().filename());
      return dir / e.path().filename();
    }
  }
  const fs::path stage = dir / "stage";
  fs::create_directories(stage);
  for (const char* exe : {"rmm-agent.exe", "rmm-updater.exe", "rmm-watchdog.exe"}) {
    REQUIRE(files::write_atomic(stage / exe, std::string("MZ placeholder ") + exe, 0644));
  }
  fs::copy_file(RMM_SOURCE_DIR "/packaging/windows/gururmm-agent.wxs", stage / "gururmm-agent.wxs");
  const fs::path msi = dir / "gururmm-agent-1.2.3-x64.msi";
  auto r =
      run_shell(fmt::format("cd {} && wixl -a x64 -D Version=1.2.3 -o {} gururmm-agent.wxs 2>&1",
                            shell_quote(stage.string()), shell_quote(msi.string())));
  REQUIRE_MESSAGE(r.exit_code == 0, "wixl (Debian package wixl) failed: " << r.output);
  fs::remove_all(stage);
  return msi;
}

// The Property table as msiinfo exports it: rows end in CR LF, a value's own newlines are LF.
std::map<std::string, std::string> properties(const fs::path& msi) {
  auto r = run_shell(fmt::format("msiinfo export {} Property", shell_quote(msi.string())));
  REQUIRE_MESSAGE(r.exit_code == 0, "msiinfo (Debian package msitools) failed: " << r.output);
  std::map<std::string, std::string> out;
  std::size_t at = 0;
  for (int row = 0; at < r.output.size(); ++row) {
    auto end = r.output.find("\r\n", at);
    if (end == std::string::npos) end = r.output.size();
    const std::string line = r.output.substr(at, end - at);
    at = end + 2;
    if (row < 3) continue;  // column names, types, table name
    const auto tab = line.find('\t');
    if (tab != std::string::npos) out[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return out;
}

// An API set up for installers: the generic MSI in its own directory (windows-installer-dir), a
// CA to pin, a broker URL for agents; `tweak` changes the rest.
struct InstallerApi {
  TempDir dir{"site-installer"};
  TlsFiles tls;
  fs::path msi;
  std::string version;  // msi's
  std::unique_ptr<api::App> app;

  explicit InstallerApi(IntentStack& s, bool with_msi = true,
                        const std::function<void(api::ApiConfig&)>& tweak = {}) {
    tls = make_tls_files(dir / "tls");
    fs::create_directories(dir / "windows");
    fs::create_directories(dir / "downloads");
    if (with_msi) {
      msi = generic_msi(dir / "windows");
      version = *api::install::generic_msi_version(msi.filename().string());
    }
    REQUIRE(files::write_atomic(dir / "downloads" / "gururmm-agent_1.2.3_amd64.deb", "!<arch>\n",
                                0644));
    app = s.start_api([&](api::ApiConfig& c) {
      c.agent_packages_dir = (dir / "downloads").string();
      c.windows_installer_dir = (dir / "windows").string();
      c.install_ca_file = tls.ca.string();
      c.public_nats_url = std::string(kNatsUrl);
      if (tweak) tweak(c);
    });
  }
  HttpResponse installer(const SiteId& site, const TestUser& user,
                         const std::string& query = "platform=windows") {
    return http_request(app->port(), "GET",
                        fmt::format("/api/v1/sites/{}/installer?{}", site.str(), query), {},
                        {{"Authorization", "Bearer " + user.token}}, 30s);
  }
  HttpResponse creds(const std::string& code) {
    return http_request(app->port(), "GET", "/install/enroll.creds", {},
                        {{"X-Enrollment-Code", code}}, 15s);
  }
  // The ids of the site's enrollment codes, as the dashboard lists them.
  std::vector<std::string> code_ids(const SiteId& site, const TestUser& user) {
    auto r =
        http_request(app->port(), "GET", "/api/v1/enrollment-codes?limit=500&site_id=" + site.str(),
                     {}, {{"Authorization", "Bearer " + user.token}}, 15s);
    REQUIRE(r.status == 200);
    const auto body = json_body(r);
    std::vector<std::string> ids;
    for (const auto& item : body.at("items").as_array()) {
      ids.emplace_back(item.at("id").as_string());
    }
    return ids;
  }
};

std::vector<fs::path> scratch_dirs() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::temp_directory_path())) {
    if (e.path().filename().string().starts_with("gururmm-msi.")) out.push_back(e.path());
  }
  return out;
}

std::string problem_detail(const HttpResponse& r) {
  return std::string(json_body(r).at("detail").as_string());
}

}  // namespace

TEST_CASE("site installer: windows answers the site's MSI; its code enrolls, and is never logged") {
  auto& s = shared_stack();
  InstallerApi api(s);
  auto owner = s.user(UserRole::Owner, {});
  const auto generic_before = properties(api.msi);
  const auto scratch_before = scratch_dirs();

  StderrCapture log(api.dir / "stderr.log");
  auto r = api.installer(s.site_a, owner);
  const std::string logged = log.text();
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(r.headers["content-type"] == "application/x-msi");
  CHECK(r.headers["content-disposition"] ==
        fmt::format("attachment; filename=\"gururmm-agent-{}-x64-site-{}.msi\"", api.version,
                    s.site_a.str()));
  CHECK(r.headers["cache-control"] == "no-store");
  const std::string code_id = r.headers["x-enrollment-code-id"];
  REQUIRE_FALSE(code_id.empty());
  CHECK(r.headers["x-enrollment-code-expires"].starts_with("20"));

  const fs::path saved = api.dir / "site.msi";
  REQUIRE(files::write_atomic(saved, r.body, 0600));
  auto props = properties(saved);
  CHECK(props["SERVERURL"] == kNatsUrl);
  CHECK(props["CAPEM"] == *files::read_all(api.tls.ca));
  const std::string code = props["ENROLLCODE"];
  CHECK(std::regex_match(code, kCodeShape));
  const std::string installed_creds = props["ENROLLCREDS"];
  CHECK(installed_creds.find("-----BEGIN USER NKEY SEED-----") != std::string::npos);
  // The rest of the package is the generic one's.
  CHECK(props["ProductVersion"] == api.version);
  CHECK(props["MsiHiddenProperties"] == "ENROLLCODE;ENROLLCREDS");
  CHECK(props["ProductCode"] == generic_before.at("ProductCode"));
  // The generic package is untouched, and the private copy is gone.
  CHECK_FALSE(properties(api.msi).contains("ENROLLCODE"));
  CHECK_FALSE(properties(api.msi).contains("ENROLLCREDS"));
  CHECK(scratch_dirs() == scratch_before);

  // The code is a live code of the site: listed for it, and the install endpoint takes it.
  auto ids = api.code_ids(s.site_a, owner);
  CHECK(std::find(ids.begin(), ids.end(), code_id) != ids.end());
  // The credential in the package is the one the install endpoint serves for that code.
  auto creds = api.creds(code);
  CHECK(creds.status == 200);
  CHECK(creds.body == *files::read_all(s.nats().home() / "nats" / "enroll.creds"));
  CHECK(installed_creds == creds.body);

  // Audited as any code: one row of the site with its creating event, which holds the code's
  // hash, never the code.
  {
    pqxx::nontransaction tx(s.db());
    auto rows = tx.exec_params(
        "SELECT stream_seq, site_id::text, detail::text FROM audit_log WHERE target_id = $1",
        code_id);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0][1].as<std::string>() == s.site_a.str());
    CHECK(rows[0][2].as<std::string>().find(code) == std::string::npos);
    const auto event = s.stored_event(rows[0][0].as<std::uint64_t>()).second;
    const std::string bytes(event.begin(), event.end());
    CHECK(bytes.find(tenancy::enrollment_code_hash(*tenancy::normalise_enrollment_code(code))) !=
          std::string::npos);
    CHECK(bytes.find(code) == std::string::npos);
  }

  // The log names the code's id, never the code or the credential.
  CHECK(logged.find("intent.installer_made") != std::string::npos);
  CHECK(logged.find(code_id) != std::string::npos);
  CHECK(logged.find(code) == std::string::npos);
  CHECK(logged.find(code.substr(0, 11)) == std::string::npos);
  CHECK(logged.find("NKEY SEED") == std::string::npos);

  // Each download is a new code.
  auto again = api.installer(s.site_a, owner);
  REQUIRE(again.status == 200);
  CHECK(again.headers["x-enrollment-code-id"] != code_id);
}

TEST_CASE("site installer: scoped like every route, admins only, bad input refused") {
  auto& s = shared_stack();
  InstallerApi api(s);
  auto owner = s.user(UserRole::Owner, {});
  const codec::ScopeRef a{PolicyScope::Client, s.client_a.bytes()};
  const codec::ScopeRef b{PolicyScope::Client, s.client_b.bytes()};
  auto admin_b = s.user(UserRole::Admin, {b});
  auto admin_a = s.user(UserRole::Admin, {a});
  auto tech_a = s.user(UserRole::Technician, {a});
  const auto codes_before = api.code_ids(s.site_a, owner).size();

  // Another tenant's site is not found, exactly like a missing one; no file in the answer.
  auto foreign = api.installer(s.site_a, admin_b);
  CHECK(foreign.status == 404);
  CHECK(foreign.headers["content-type"] == "application/problem+json");
  CHECK(foreign.body.find("ENROLLCODE") == std::string::npos);
  CHECK(api.installer(SiteId::generate(real_clock()), owner).status == 404);
  CHECK(api.installer(s.site_a, tech_a).status == 403);
  for (const std::string& query :
       {std::string("platform=macos"), std::string(""), std::string("platform=Windows"),
        std::string("platform=windows&expires_in_s=5"),
        std::string("platform=windows&expires_in_s=x")}) {
    auto r = api.installer(s.site_a, admin_a, query);
    CHECK_MESSAGE(r.status == 400, query);
    CHECK(r.headers["content-type"] == "application/problem+json");
  }
  CHECK(api.code_ids(s.site_a, owner).size() == codes_before);  // refusals make no code

  // The admin of the site's own client gets it, with the lifetime asked for.
  auto ok = api.installer(s.site_a, admin_a, "platform=windows&expires_in_s=3600");
  CHECK(ok.status == 200);
  CHECK(ok.body.starts_with("\xD0\xCF\x11\xE0"));  // an OLE compound file, as every MSI
}

TEST_CASE("site installer: no generic MSI, no msibuild or a failing one are clean 503s") {
  auto& s = shared_stack();
  auto owner = s.user(UserRole::Owner, {});
  {
    InstallerApi api(s, /*with_msi=*/false);
    const auto codes_before = api.code_ids(s.site_a, owner).size();
    StderrCapture log(api.dir / "stderr.log");
    auto r = api.installer(s.site_a, owner);
    const std::string logged = log.text();
    REQUIRE(r.status == 503);
    CHECK(r.headers["content-type"] == "application/problem+json");
    CHECK(problem_detail(r).find("no Windows agent package in windows-installer-dir") !=
          std::string::npos);
    // The server's paths are in its log (with the correlation id), not in the answer.
    CHECK(r.body.find(api.dir.path().string()) == std::string::npos);
    CHECK(logged.find("intent.installer_unavailable") != std::string::npos);
    CHECK(logged.find(std::string(json_body(r).at("correlation_id").as_string())) !=
          std::string::npos);
    CHECK(logged.find((api.dir / "windows").string()) != std::string::npos);
    CHECK(api.code_ids(s.site_a, owner).size() == codes_before);
  }
  {
    InstallerApi api(s, true, [](api::ApiConfig& c) { c.msibuild = "/nonexistent/msibuild"; });
    auto r = api.installer(s.site_a, owner);
    REQUIRE(r.status == 503);
    CHECK(problem_detail(r).find("msibuild is not installed") != std::string::npos);
  }
  {
    // No enroll-home: the installed agent could not enroll, so no installer and no code.
    InstallerApi api(s, true, [](api::ApiConfig& c) { c.enroll_home.clear(); });
    const auto codes_before = api.code_ids(s.site_a, owner).size();
    auto r = api.installer(s.site_a, owner);
    REQUIRE(r.status == 503);
    CHECK(problem_detail(r).find("no enrollment credential") != std::string::npos);
    CHECK(api.code_ids(s.site_a, owner).size() == codes_before);
  }
  {
    // An msibuild that fails and repeats its arguments (the code and the credential among them).
    TempDir tools("fake-msibuild");
    const fs::path fake = tools / "msibuild";
    REQUIRE(files::write_atomic(fake, "#!/bin/sh\necho \"cannot run: $*\" >&2\nexit 3\n", 0755));
    InstallerApi api(s, true, [&](api::ApiConfig& c) { c.msibuild = fake.string(); });
    const auto scratch_before = scratch_dirs();
    StderrCapture log(api.dir / "stderr.log");
    auto r = api.installer(s.site_a, owner);
    const std::string logged = log.text();
    REQUIRE(r.status == 503);
    CHECK(problem_detail(r).find("could not make the Windows installer") != std::string::npos);
    CHECK(logged.find("intent.installer_failed") != std::string::npos);
    CHECK(logged.find("msibuild exited with 3") != std::string::npos);
    CHECK(logged.find("<enrollment code>") != std::string::npos);
    CHECK(logged.find("<enrollment credential>") != std::string::npos);
    CHECK_FALSE(std::regex_search(logged, kCodeShape));
    // Not a line of the credential's JWT or seed, whole or as the file has it.
    const auto creds = *files::read_all(s.nats().home() / "nats" / "enroll.creds");
    for (std::size_t at = 0, end; at < creds.size(); at = end + 1) {
      end = std::min(creds.find('\n', at), creds.size());
      const std::string line = creds.substr(at, end - at);
      if (line.size() >= 40 && line.find(' ') == std::string::npos) {
        CHECK_MESSAGE(logged.find(line) == std::string::npos, line);
      }
    }
    CHECK(scratch_dirs() == scratch_before);
  }
}

TEST_CASE("site installer: linux answers the one-line install with a new code") {
  auto& s = shared_stack();
  InstallerApi api(s);
  auto owner = s.user(UserRole::Owner, {});
  auto r = api.installer(s.site_a, owner, "platform=linux");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(r.headers["content-type"] == "text/plain; charset=utf-8");
  CHECK(r.headers.count("content-disposition") == 0);
  CHECK(r.body.find(fmt::format("'http://127.0.0.1:{}/install/linux.sh'", api.app->port())) !=
        std::string::npos);
  std::smatch m;
  REQUIRE(std::regex_search(r.body, m, kCodeShape));
  CHECK(api.creds(m.str()).status == 200);
}

TEST_CASE("site installer: generic package names") {
  using api::install::generic_msi_version;
  CHECK(generic_msi_version("gururmm-agent-0.1.0-x64.msi") == "0.1.0");
  CHECK(generic_msi_version("gururmm-agent-12-x64.msi") == "12");
  for (const char* bad : {"gururmm-agent--x64.msi", "gururmm-agent-1.0-x86.msi",
                          "gururmm-agent-1.0-rc1-x64.msi", "gururmm-agent-.1-x64.msi",
                          "gururmm-agent-1.0-x64.msi.part", "../gururmm-agent-1-x64.msi"}) {
    CHECK_FALSE_MESSAGE(generic_msi_version(bad), bad);
  }
}

}  // namespace rmm::test
