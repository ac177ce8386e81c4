// The Linux installer script (api/install/linux.sh.in, compiled in) rendered for this
// installation, and the one line an operator pastes on a new machine to run it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/install/agent_packages.h"
#include "common/result.h"

namespace rmm::api::install {

struct ScriptInputs {
  std::string api_url;   // rmm-api's public URL, no trailing slash: "https://rmm.example.com"
  std::string nats_url;  // the broker's public URL: "tls://rmm.example.com:4222"
  std::string ca_pem;    // the installation's CA, pinned by the agent; empty: none
  // rmm-api's key pin ("sha256//..."): the script's downloads pin it like the line does; empty:
  // an https URL is checked against the system's CAs (a reverse proxy's public certificate).
  std::string api_pin;
  std::vector<AgentPackage> packages;
};

// The script. Every value lands in single quotes or a quoted here-document, so each is checked
// first: a value with a quote, a backslash or a control character (or a CA that is not PEM) is
// refused rather than escaped.
Result<std::string> render_linux_script(const ScriptInputs& inputs);

struct LineInputs {
  std::string api_url;        // as in ScriptInputs
  std::string script_sha256;  // lower-case hex SHA-256 of the rendered script
  std::string key_pin;        // "sha256//..." of rmm-api's TLS key; empty for a plain-HTTP URL
  std::string code;           // the enrollment code
};

// One POSIX sh line: download the script (pinning rmm-api's key when the URL is https), check
// its SHA-256, and run it as root with the code on its standard input (never in a command line).
Result<std::string> linux_install_line(const LineInputs& inputs);

}  // namespace rmm::api::install
