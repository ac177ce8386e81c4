#include "api/install/install_script.h"

#include <fmt/format.h>

#include "linux_sh_template.h"

namespace rmm::api::install {
namespace {

// Safe inside single quotes (and in a here-document): printable ASCII without ' " \ ` and $.
bool quotable(std::string_view v) {
  for (char c : v) {
    if (c < 0x20 || c > 0x7e || c == '\'' || c == '"' || c == '\\' || c == '`' || c == '$') {
      return false;
    }
  }
  return true;
}

bool is_pem(std::string_view pem) {
  if (pem.find("-----BEGIN CERTIFICATE-----") != 0) return false;
  for (char c : pem) {
    bool ok = c == '\n' || c == '\r' ||
              (c >= 0x20 && c <= 0x7e && c != '\'' && c != '\\' && c != '`' && c != '$');
    if (!ok) return false;
  }
  // The here-document ends at its delimiter line: the PEM must not contain it.
  return pem.find("GURURMM_CA_END") == std::string_view::npos;
}

bool is_http_url(std::string_view url) {
  return (url.starts_with("https://") || url.starts_with("http://")) && !url.ends_with("/");
}

void replace_all(std::string& text, std::string_view token, std::string_view value) {
  for (auto at = text.find(token); at != std::string::npos; at = text.find(token, at)) {
    text.replace(at, token.size(), value);
    at += value.size();
  }
}

}  // namespace

Result<std::string> render_linux_script(const ScriptInputs& in) {
  if (!is_http_url(in.api_url) || !quotable(in.api_url)) {
    return failf("the public API URL '{}' cannot go into the installer", in.api_url);
  }
  if (in.nats_url.empty() || !quotable(in.nats_url) || in.nats_url.find(' ') != std::string::npos) {
    return failf("the public NATS URL '{}' cannot go into the installer", in.nats_url);
  }
  if (!quotable(in.api_pin) || in.api_pin.find(' ') != std::string::npos) {
    return fail("the key pin cannot go into the installer");
  }
  std::string ca = in.ca_pem;
  while (!ca.empty() && (ca.back() == '\n' || ca.back() == '\r')) ca.pop_back();
  if (!ca.empty() && !is_pem(ca)) return fail("the install CA file is not a PEM certificate");
  std::string cases;
  for (const auto& p : in.packages) {
    if (!is_package_file_name(p.file) || !quotable(p.arch) || p.sha256.size() != 64 ||
        !quotable(p.sha256)) {
      return failf("the agent package '{}' cannot go into the installer", p.file);
    }
    cases += fmt::format("  '{}') package='{}'; sha256='{}' ;;\n", p.arch, p.file, p.sha256);
  }
  if (!cases.empty()) cases.pop_back();
  std::string script(kLinuxShTemplate);
  replace_all(script, "@API_URL@", in.api_url);
  replace_all(script, "@NATS_URL@", in.nats_url);
  replace_all(script, "@API_PIN@", in.api_pin);
  replace_all(script, "@PACKAGE_CASES@", cases);
  replace_all(script, "@CA_PEM@", ca);
  return script;
}

Result<std::string> linux_install_line(const LineInputs& in) {
  if (!is_http_url(in.api_url) || !quotable(in.api_url)) {
    return failf("the public API URL '{}' cannot go into an install line", in.api_url);
  }
  if (!quotable(in.code) || !quotable(in.key_pin) || in.script_sha256.size() != 64) {
    return fail("an install line cannot hold these values");
  }
  const bool https = in.api_url.starts_with("https://");
  // -k: the new machine does not trust the private CA yet; curl still checks the pinned key
  // (docs/enrollment.md, and tests/install), which is what authenticates the server here.
  // Without a pin (a reverse proxy's certificate) curl checks the server against the system's CAs.
  std::string fetch =
      !https ? std::string("curl -fsS --proto =http")
      : in.key_pin.empty()
          ? std::string("curl -fsS --proto =https")
          : fmt::format("curl -fsSk --proto =https --pinnedpubkey '{}'", in.key_pin);
  // The status is the script's (or the failed check's), and the temporary file goes either way.
  return fmt::format(
      "f=$(mktemp) && {{ {} -o \"$f\" '{}/install/linux.sh' && "
      "echo '{}  '\"$f\" | sha256sum -c --quiet && "
      "{{ [ \"$(id -u)\" = 0 ] && s= || s=sudo; }} && "
      "echo '{}' | $s sh \"$f\"; }}; r=$?; rm -f \"$f\"; [ $r = 0 ]",
      fetch, in.api_url, in.script_sha256, in.code);
}

}  // namespace rmm::api::install
