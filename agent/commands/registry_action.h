// The registry editor's built-in action: runs a RegistrySpec (common/registry_spec.h) with
// agent/platform/registry.h and answers with one JSON document, the command's standard output,
// which the dashboard parses. Failures (the key or value does not exist, access denied, "the
// registry exists on Windows only" off Windows) are the command's error: stderr, exit code 1.
//
// The answers (docs/agent.md, "Registry editor"):
//   list:          {"hive","key","subkeys":[names],"values":[value...],"truncated"}
//   get:           {"hive","key", value...}
//   set:           {"done":true,"operation":"set","hive","key", value...} (the value read back)
//   delete_value:  {"done":true,"operation":"delete_value","hive","key","name"}
//   create_key, delete_key: {"done":true,"operation":...,"hive","key"}
// where a value is {"name","type","data"} and data is by type: text (string, expand_string), an
// array of text (multi_string), a number (dword), a decimal string (qword: JavaScript numbers
// hold 53 bits), lower-case hex (binary, and other, which adds "raw_type": the REG_* number).
//
// Concurrency: pure functions, except run_registry_action (the registry; thread-safe).
// Limitations: a listing stays within the output cap: past it, entries are dropped from the end
// ("truncated": true); in a listing a value's data is cut at kListedDataBytes
// ("data_truncated": true; get answers with all of it).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "agent/platform/registry.h"
#include "common/registry_spec.h"
#include "common/result.h"

namespace rmm::agent {

inline constexpr std::size_t kListedDataBytes = 1024;

platform::RegistryHive to_platform_hive(schema::RegistryHive hive);
platform::RegistryValue to_platform_value(const codec::RegistryValueSpec& value);

// The answers above, as text; `max_bytes` bounds the listing.
std::string registry_listing_json(const codec::RegistrySpec& spec,
                                  const platform::RegistryKeyListing& listing,
                                  std::size_t max_bytes);
std::string registry_value_json(const codec::RegistrySpec& spec,
                                const platform::RegistryValue& value);
// `written`: the value read back after a set (null for the other writes).
std::string registry_done_json(const codec::RegistrySpec& spec,
                               const platform::RegistryValue* written);

// Runs `spec` (checked: check_registry_spec) and returns its answer; an answer larger than
// `max_output_bytes` (a huge value) is an error rather than a cut, unparseable document.
Result<std::string> run_registry_action(const codec::RegistrySpec& spec,
                                        std::size_t max_output_bytes);

}  // namespace rmm::agent
