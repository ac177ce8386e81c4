#include "agent/enroll/site_settings.h"

#include "agent/platform/registry.h"

namespace rmm::agent::enroll {
namespace {

using platform::RegistryHive;
using platform::RegistryType;

std::string trimmed(std::string s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.back())) s.pop_back();
  std::size_t start = 0;
  while (start < s.size() && space(s[start])) ++start;
  return s.substr(start);
}

// The value's text; "" when it does not exist. kNotSupported passes through (no registry).
Result<std::string> read_text(std::string_view name) {
  auto value = platform::registry_get(RegistryHive::kLocalMachine, kSiteSettingsKey, name);
  if (!value) {
    if (value.error().code == Error::Code::kNotFound) return std::string();
    return std::unexpected(value.error());
  }
  if (value->type != RegistryType::kString && value->type != RegistryType::kExpandString) {
    return fail(Error::Code::kInvalidInput,
                fmt::format("HKLM\\{}\\{} is not a string value", kSiteSettingsKey, name));
  }
  return std::move(value->text);
}

}  // namespace

Result<std::optional<SiteSettings>> read_site_settings() {
  SiteSettings s;
  const std::pair<std::string_view, std::string*> fields[] = {{"ServerUrl", &s.server_url},
                                                              {"EnrollCode", &s.enroll_code},
                                                              {"CaFile", &s.ca_file},
                                                              {"CaPem", &s.ca_pem},
                                                              {"EnrollCreds", &s.enroll_creds}};
  for (const auto& [name, field] : fields) {
    auto text = read_text(name);
    if (!text) {
      if (text.error().code == Error::Code::kNotSupported) return std::nullopt;
      return std::unexpected(
          with_context(text.error(), fmt::format("reading HKLM\\{}", kSiteSettingsKey)));
    }
    *field = std::move(*text);
  }
  s.server_url = trimmed(std::move(s.server_url));
  s.enroll_code = trimmed(std::move(s.enroll_code));
  s.ca_file = trimmed(std::move(s.ca_file));
  if (s.server_url.empty() && s.enroll_code.empty() && s.ca_file.empty() && s.ca_pem.empty() &&
      s.enroll_creds.empty()) {
    return std::nullopt;
  }
  return s;
}

Status forget_enrollment_secrets() {
  Status first;
  for (std::string_view name : {"EnrollCode", "EnrollCreds"}) {
    auto s = platform::registry_delete_value(RegistryHive::kLocalMachine, kSiteSettingsKey, name);
    if (!s && s.error().code != Error::Code::kNotFound && first) first = std::move(s);
  }
  return first;
}

}  // namespace rmm::agent::enroll
