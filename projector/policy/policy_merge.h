// The effective policy of one agent: built-in defaults <- global <- client <- site <- agent, most
// specific wins, each value remembering the level it came from. Pure.
//
// Unknown keys and invalid values of a level are skipped (the next less specific level shows
// through), so a document that reached the log unvalidated never breaks the merge.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ids.h"

namespace rmm::policy {

enum class Level { kDefault, kGlobal, kClient, kSite, kAgent };

// "default", "global", "client", "site", "agent".
std::string_view level_name(Level level);

// One stored policy document (a `policies` row).
struct PolicyDoc {
  Level level = Level::kGlobal;
  UuidBytes scope_id{};  // nil for global
  std::map<std::string, std::string> settings;
};

struct EffectiveValue {
  std::string value;
  Level source = Level::kDefault;
  std::optional<UuidBytes> source_id;  // nullopt for default and global
  bool operator==(const EffectiveValue&) const = default;
};

// key -> value, holding every known key.
using EffectivePolicy = std::map<std::string, EffectiveValue>;

// Merges `docs` (any order, at most one per level; absent levels are simply missing) over the
// defaults. `skipped` (optional) receives "key" of each unknown key or invalid value skipped.
EffectivePolicy merge_policy(const std::vector<const PolicyDoc*>& docs,
                             std::vector<std::string>* skipped = nullptr);

// The integer value of `key` in `policy`, or its default when absent or not an integer.
std::int64_t policy_int(const EffectivePolicy& policy, std::string_view key);

}  // namespace rmm::policy
