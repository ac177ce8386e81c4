#include "admin/command_key_commands.h"

#include <fmt/format.h>

#include <cstdio>
#include <limits>

#include "admin/command_keys.h"
#include "common/command_signing.h"

namespace rmm::admin {
namespace {

using config::Setting;
using config::Type;

constexpr std::int64_t kAny = std::numeric_limits<std::int64_t>::max();

constexpr Setting kSettings[] = {
    {"home", Type::kString, "", "installation home; command keys live in <home>/command-keys",
     -kAny, kAny, true},
};
constexpr Setting kRetireSettings[] = {
    kSettings[0],
    {"key-id", Type::kString, "", "the id of the key agents must stop trusting", -kAny, kAny, true},
};

int failed(const Error& e) {
  std::fprintf(stderr, "rmm-admin: %s\n", e.message.c_str());
  return 1;
}

}  // namespace

std::span<const Setting> command_key_settings() {
  return kSettings;
}
std::span<const Setting> command_key_retire_settings() {
  return kRetireSettings;
}

// "<key id> <public key hex> [active|next]" per trusted key.
int run_command_key_list(const config::Values& v) {
  auto paths = broker::command_key_paths(v.str("home"));
  auto signer = broker::load_command_signer(paths.dir);
  if (!signer) return failed(signer.error());
  std::string next_id;
  if (auto next = signing::load_private_key(paths.next(), codec::kCommandKeyTag); next) {
    next_id = signing::key_id(next->public_key);
  }
  for (const auto& k : signer->trusted) {
    std::string role = k.key_id == signer->key_id() ? " active"
                       : k.key_id == next_id        ? " next"
                                                    : "";
    fmt::print("{} {}{}\n", k.key_id, signing::public_key_hex(k.public_key), role);
  }
  return 0;
}

int run_command_key_new(const config::Values& v) {
  auto id = broker::new_command_key(v.str("home"));
  if (!id) return failed(id.error());
  fmt::print("{}\n", *id);
  return 0;
}

int run_command_key_activate(const config::Values& v) {
  auto id = broker::activate_command_key(v.str("home"));
  if (!id) return failed(id.error());
  fmt::print("{}\n", *id);
  return 0;
}

int run_command_key_retire(const config::Values& v) {
  if (auto s = broker::retire_command_key(v.str("home"), v.str("key-id")); !s) {
    return failed(s.error());
  }
  return 0;
}

}  // namespace rmm::admin
