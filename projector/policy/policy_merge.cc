#include "projector/policy/policy_merge.h"

#include <algorithm>
#include <array>

#include "projector/policy/policy_keys.h"

namespace rmm::policy {

std::string_view level_name(Level level) {
  static constexpr std::array<std::string_view, 5> kNames = {"default", "global", "client", "site",
                                                             "agent"};
  return kNames[static_cast<std::size_t>(level)];
}

EffectivePolicy merge_policy(const std::vector<const PolicyDoc*>& docs,
                             std::vector<std::string>* skipped) {
  EffectivePolicy out;
  for (const auto& k : policy_keys()) {
    out[std::string(k.key)] = EffectiveValue{std::string(k.default_value), Level::kDefault, {}};
  }
  std::vector<const PolicyDoc*> ordered(docs);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const PolicyDoc* a, const PolicyDoc* b) { return a->level < b->level; });
  for (const PolicyDoc* doc : ordered) {
    if (doc == nullptr || doc->level == Level::kDefault) continue;
    for (const auto& [key, value] : doc->settings) {
      if (!validate_policy_value(key, value)) {
        if (skipped != nullptr) skipped->push_back(key);
        continue;
      }
      std::optional<UuidBytes> id;
      if (doc->level != Level::kGlobal) id = doc->scope_id;
      out[key] = EffectiveValue{value, doc->level, id};
    }
  }
  return out;
}

std::int64_t policy_int(const EffectivePolicy& policy, std::string_view key) {
  auto it = policy.find(std::string(key));
  if (it != policy.end()) {
    if (auto v = integer_value(it->second.value)) return *v;
  }
  if (const auto* k = find_policy_key(key)) {
    if (auto v = integer_value(k->default_value)) return *v;
  }
  return 0;
}

}  // namespace rmm::policy
