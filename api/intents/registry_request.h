// The registry fields of POST /api/v1/commands (kind "registry"), checked strictly: "op", "hive",
// "key", "name" and, for set, "value": {"type": ..., "data": ...} with data by type (docs/api.md,
// "Registry commands"). What the agent checks again is common/registry_spec.h.
//
// Concurrency: pure functions.
#pragma once

#include "api/intents/json_input.h"
#include "common/registry_spec.h"
#include "common/result.h"

namespace rmm::api::intents {

// kInvalidInput with a client-facing message on anything malformed or inapplicable.
Result<codec::RegistrySpec> parse_registry_request(const Body& body);

// The value of a set from its JSON ({"type","data"}): the same shape as the agent's answers.
Result<codec::RegistryValueSpec> parse_registry_value(const boost::json::value& value);

}  // namespace rmm::api::intents
