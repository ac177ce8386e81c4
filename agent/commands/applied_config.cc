#include "agent/commands/applied_config.h"

#include <algorithm>

#include "common/files.h"

namespace rmm::agent {

Result<codec::KeyValues> load_applied_config(const std::filesystem::path& state_dir) {
  const auto path = state_dir / kAppliedConfigFile;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return codec::KeyValues{};
  auto text = files::read_all(path);
  if (!text) return std::unexpected(text.error());
  codec::KeyValues out;
  std::size_t start = 0;
  while (start < text->size()) {
    auto end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string_view line(text->data() + start, end - start);
    if (auto eq = line.find('='); eq != std::string_view::npos && eq > 0) {
      out.emplace_back(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
    }
    start = end + 1;
  }
  return out;
}

Result<codec::KeyValues> merge_applied_config(const std::filesystem::path& state_dir,
                                              const codec::KeyValues& settings) {
  auto current = load_applied_config(state_dir);
  if (!current) return current;
  for (const auto& [key, value] : settings) {
    auto it = std::find_if(current->begin(), current->end(),
                           [&](const auto& kv) { return kv.first == key; });
    if (it != current->end()) {
      it->second = value;
    } else {
      current->emplace_back(key, value);
    }
  }
  std::string text;
  for (const auto& [key, value] : *current) text += key + "=" + value + "\n";
  if (auto s = files::write_atomic(state_dir / kAppliedConfigFile, text, 0600); !s) {
    return std::unexpected(s.error());
  }
  return current;
}

}  // namespace rmm::agent
