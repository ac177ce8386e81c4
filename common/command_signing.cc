#include "common/command_signing.h"

#include <fmt/format.h>

#include "signed_command_generated.h"

namespace rmm::codec {
namespace {

constexpr std::string_view kDomain = "gururmm-command-v1\n";
constexpr std::size_t kMaxSignedBytes = 16 * 1024 * 1024;
constexpr flatbuffers::Verifier::Options kVerifierOptions{/*max_depth=*/8, /*max_tables=*/16,
                                                          /*check_alignment=*/true,
                                                          /*check_nested_flatbuffers=*/true};

std::string signed_message(std::span<const std::uint8_t> envelope) {
  std::string m(kDomain);
  m.append(reinterpret_cast<const char*>(envelope.data()), envelope.size());
  return m;
}

// The SignedCommand in `bytes` (already aligned), or null.
const schema::SignedCommand* read_signed(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 8 || bytes.size() > kMaxSignedBytes) return nullptr;
  if (!schema::SignedCommandBufferHasIdentifier(bytes.data())) return nullptr;
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), kVerifierOptions);
  if (!schema::VerifySignedCommandBuffer(verifier)) return nullptr;
  const auto* s = schema::GetSignedCommand(bytes.data());
  return s->envelope() != nullptr ? s : nullptr;
}

}  // namespace

std::string_view refusal_text(CommandRefusal r) {
  switch (r) {
    case CommandRefusal::kUnreadable:
      return "not a command";
    case CommandRefusal::kNotSigned:
      return "unsigned command";
    case CommandRefusal::kUnknownKey:
      return "signed by an unknown key";
    case CommandRefusal::kBadSignature:
      return "bad signature";
    case CommandRefusal::kNoAgent:
      return "command names no agent";
    case CommandRefusal::kOtherAgent:
      return "command is for another agent";
  }
  return "refused";
}

std::vector<std::uint8_t> sign_command(std::span<const std::uint8_t> envelope,
                                       const signing::SigningKey& key) {
  auto sig = signing::sign(key, signed_message(envelope));
  flatbuffers::FlatBufferBuilder fbb(envelope.size() + 256);
  auto env = fbb.CreateVector(envelope.data(), envelope.size());
  auto id = fbb.CreateString(sig.key_id);
  auto bytes = fbb.CreateVector(sig.bytes.data(), sig.bytes.size());
  schema::FinishSignedCommandBuffer(fbb, schema::CreateSignedCommand(fbb, env, id, bytes));
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<std::uint8_t> build_signed_command(const CommandInfo& command,
                                               const signing::SigningKey& key) {
  return sign_command(build_command(command), key);
}

Result<std::vector<std::uint8_t>> signed_command_envelope(std::span<const std::uint8_t> bytes) {
  std::vector<std::uint8_t> storage;
  const auto* s = read_signed(aligned_for_read(bytes, storage));
  if (s == nullptr) return fail(Error::Code::kInvalidInput, "not a signed command (RMSC)");
  return std::vector<std::uint8_t>(s->envelope()->begin(), s->envelope()->end());
}

OpenedCommand open_command(std::span<const std::uint8_t> bytes,
                           std::span<const signing::TrustedKey> trusted, const AgentId& self) {
  OpenedCommand out;
  auto refuse = [&](CommandRefusal r, std::string reason) {
    out.refusal = r;
    out.reason = std::move(reason);
    return std::move(out);
  };
  std::vector<std::uint8_t> storage;
  auto data = aligned_for_read(bytes, storage);
  const auto* signed_cmd = read_signed(data);
  std::optional<signing::Signature> signature;
  if (signed_cmd != nullptr) {
    out.envelope.assign(signed_cmd->envelope()->begin(), signed_cmd->envelope()->end());
    const auto* key = signed_cmd->key_id();
    const auto* sig = signed_cmd->signature();
    if (key != nullptr && sig != nullptr && sig->size() == 64) {
      signature.emplace();
      signature->key_id = key->str();
      std::copy(sig->begin(), sig->end(), signature->bytes.begin());
    }
  } else {
    out.envelope.assign(data.begin(), data.end());  // perhaps a bare CommandEnvelope
  }
  auto env = verify_command(out.envelope);
  if (!env || from_wire((*env)->command_id()) == UuidBytes{}) {
    std::string why = env ? "no command id" : env.error().message;
    out.envelope.clear();
    return refuse(CommandRefusal::kUnreadable, std::move(why));
  }
  out.id = CommandId(from_wire((*env)->command_id()));
  if (signed_cmd == nullptr) {
    return refuse(CommandRefusal::kNotSigned, "unsigned command: commands must be signed");
  }
  if (!signature) return refuse(CommandRefusal::kBadSignature, "malformed signature");
  out.key_id = signature->key_id;
  if (auto ok = signing::verify(trusted, *signature, signed_message(out.envelope)); !ok) {
    if (ok.error() == signing::SignatureProblem::kUnknownKey) {
      return refuse(
          CommandRefusal::kUnknownKey,
          fmt::format("signed by key {}, which this agent does not trust", signature->key_id));
    }
    return refuse(CommandRefusal::kBadSignature,
                  fmt::format("bad signature (key {})", signature->key_id));
  }
  const AgentId agent(from_wire((*env)->agent_id()));
  if (agent.is_nil()) return refuse(CommandRefusal::kNoAgent, "signed command names no agent");
  if (agent != self) {
    return refuse(CommandRefusal::kOtherAgent, fmt::format("command is for agent {}", agent.str()));
  }
  return out;
}

}  // namespace rmm::codec
