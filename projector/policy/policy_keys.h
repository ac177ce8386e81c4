// The policy keys that PolicySet may carry, with their built-in defaults, units and validation
// rules (docs/policies.md). The one list the API validates `PUT /api/v1/policies` with and the
// projector merges effective policies from.
//
// Library rmm_policy: pure, no database or broker dependency, so rmm-api can link it.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace rmm::policy {

enum class ValueType {
  kInteger,  // decimal digits, optionally signed, within [min, max]
  kChoice,   // one of `choices`
};

struct PolicyKey {
  std::string_view key;
  ValueType type;
  std::string_view default_value;
  std::string_view unit;  // "percent", "minutes", "seconds", "celsius", "" for choices
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::span<const std::string_view> choices;
  std::string_view description;
};

// Every known key, in documentation order.
std::span<const PolicyKey> policy_keys();
const PolicyKey* find_policy_key(std::string_view key);

// OK when `key` is known and `value` is valid for it; else an kInvalidInput error naming both.
Status validate_policy_value(std::string_view key, std::string_view value);

// The integer value of a valid kInteger value; nullopt for anything else.
std::optional<std::int64_t> integer_value(std::string_view value);

}  // namespace rmm::policy
