// Signed commands (schemas/signed_command.fbs): what the command issuers (rmm-api, the rollout
// controller) publish on rmm.cmd.<agent id>, and how an agent tells a command it may run from
// anything else that reaches its consumer.
//
// The signature covers "gururmm-command-v1\n" + the exact CommandEnvelope bytes: the agent id,
// command id, issuer, issue and expiry times, limits and payload are all inside, so none can be
// changed or moved to another agent without the key. The prefix keeps a command signature from
// ever being valid as anything else. Keys and ids are those of common/signing.h; command key files
// carry the tag "rmm-command-ed25519". docs/command-signing.md has the whole scheme.
//
// Concurrency: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/command_codec.h"
#include "common/signing.h"

namespace rmm::codec {

inline constexpr std::string_view kCommandKeyTag = "rmm-command-ed25519";

// A CommandEnvelope (build_command's bytes) wrapped with its signature by `key`.
std::vector<std::uint8_t> sign_command(std::span<const std::uint8_t> envelope,
                                       const signing::SigningKey& key);
// build_command + sign_command.
std::vector<std::uint8_t> build_signed_command(const CommandInfo& command,
                                               const signing::SigningKey& key);

// Why a message is not a command this agent may run, before any field of it is trusted.
enum class CommandRefusal {
  kUnreadable,    // neither a signed command nor a command: no id to report
  kNotSigned,     // a bare CommandEnvelope (RMCM)
  kUnknownKey,    // signed by a key this agent does not trust
  kBadSignature,  // the signature does not verify (altered, or not made by that key)
  kNoAgent,       // signed, but names no agent
  kOtherAgent,    // signed for another agent
};
std::string_view refusal_text(CommandRefusal r);

struct OpenedCommand {
  // The CommandEnvelope: verified (verify_command) and, unless `refusal` is set, signed by a
  // trusted key for this agent. Heap memory, so aligned for reading.
  std::vector<std::uint8_t> envelope;
  CommandId id;        // nil when refusal is kUnreadable
  std::string key_id;  // the signing key's id ("" when not signed)
  std::optional<CommandRefusal> refusal;
  std::string reason;  // for the CommandRejected event and the log
};

// Unwraps a message from the agent's consumer. A message that is a verified SignedCommand (or a
// bare CommandEnvelope) with a command id always yields that id, so a refusal can be reported
// against it; anything else is kUnreadable.
OpenedCommand open_command(std::span<const std::uint8_t> bytes,
                           std::span<const signing::TrustedKey> trusted, const AgentId& self);

// The envelope bytes inside a SignedCommand, without checking the signature (tools that only
// display commands, e.g. the fleet simulator and tests). kInvalidInput when not a SignedCommand.
Result<std::vector<std::uint8_t>> signed_command_envelope(std::span<const std::uint8_t> bytes);

}  // namespace rmm::codec
