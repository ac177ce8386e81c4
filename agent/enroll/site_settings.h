// The site's settings an installer leaves for the agent's first start. The Windows installer
// (packaging/windows/gururmm-agent.wxs) writes them as values of HKLM\SOFTWARE\GuruRMM\Agent: an
// MSI can write registry values but no file contents (docs/agent.md, "Installing on Windows").
// Read through the agent's registry backend (agent/platform/registry.h), so a platform without a
// registry simply has none.
//
// Concurrency: thread-safe (each call opens its own key handles).
// Limitations: only REG_SZ and REG_EXPAND_SZ values are read (the installer writes REG_SZ); an
// expandable string is taken as written, unexpanded.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace rmm::agent::enroll {

// Below HKLM, in the 64-bit view.
inline constexpr std::string_view kSiteSettingsKey = "SOFTWARE\\GuruRMM\\Agent";

struct SiteSettings {
  std::string server_url;    // ServerUrl: the broker's NATS URL
  std::string enroll_code;   // EnrollCode: the site's enrollment code (a secret)
  std::string ca_file;       // CaFile: a PEM file on this machine with the CA to pin
  std::string ca_pem;        // CaPem: the same CA as PEM text
  std::string enroll_creds;  // EnrollCreds: the shared enrollment credential as text
};

// The settings; nullopt when the platform has no registry or none of the values exists. A
// missing value reads as empty; the URL and the code are trimmed of surrounding white space.
// Errors: a value of another type (kInvalidInput, naming it), an unreadable key.
Result<std::optional<SiteSettings>> read_site_settings();

// Removes the two secrets, EnrollCode and EnrollCreds (once enrolled, nothing needs them); an
// absent value is no error. Both are tried even when the first fails; the first error is returned.
Status forget_enrollment_secrets();

}  // namespace rmm::agent::enroll
