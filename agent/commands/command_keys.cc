#include "agent/commands/command_keys.h"

#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "common/files.h"

namespace rmm::agent {

Result<std::vector<signing::TrustedKey>> load_command_keys(const std::filesystem::path& state_dir) {
  const auto path = state_dir / kCommandKeysFile;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return fail(Error::Code::kNotFound,
                fmt::format("{} is missing: this agent trusts no command key (enroll it again, or "
                            "run `rmm-agent trust-command-keys`)",
                            path.string()));
  }
  auto text = files::read_all(path);
  if (!text) return std::unexpected(text.error());
  auto keys = signing::parse_trusted_keys(*text);
  if (!keys) return fail(Error::Code::kInvalidInput, path.string() + ": " + keys.error().message);
  if (keys->empty() || keys->size() > kMaxCommandKeys) {
    return fail(Error::Code::kInvalidInput,
                fmt::format("{}: holds {} keys (1 to {} expected)", path.string(), keys->size(),
                            kMaxCommandKeys));
  }
  return keys;
}

Status save_command_keys(const std::filesystem::path& state_dir,
                         std::span<const signing::TrustedKey> keys) {
  return files::write_atomic(state_dir / kCommandKeysFile, signing::format_trusted_keys(keys),
                             0600);
}

Result<std::vector<signing::TrustedKey>> parse_command_key_list(
    std::span<const std::string> public_keys) {
  if (public_keys.empty() || public_keys.size() > kMaxCommandKeys) {
    return fail(Error::Code::kInvalidInput, fmt::format("{} command keys (1 to {} expected)",
                                                        public_keys.size(), kMaxCommandKeys));
  }
  std::vector<signing::TrustedKey> out;
  for (const auto& text : public_keys) {
    auto key = signing::parse_public_key(text);
    if (!key) return fail(Error::Code::kInvalidInput, "a command key is not 64 hex digits");
    auto trusted = signing::trusted_key(*key);
    if (std::find(out.begin(), out.end(), trusted) != out.end()) {
      return fail(Error::Code::kInvalidInput, "a command key is listed twice");
    }
    out.push_back(trusted);
  }
  return out;
}

}  // namespace rmm::agent
