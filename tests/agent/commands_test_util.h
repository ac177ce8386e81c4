// Helpers for the command tests: commands as the issuers build them (signed, for one agent, with
// an expiry), publishing them as the services user, and reading a command's lifecycle back from
// an outbox or from RMM_EVENTS.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/outbox/outbox.h"
#include "common/command_codec.h"
#include "common/command_signing.h"
#include "common/nats_message.h"

namespace rmm::test {

// The command key unit tests sign with (made once per test process) and the set that trusts it.
inline const signing::SigningKey& test_command_key() {
  static const signing::SigningKey key = signing::generate_key();
  return key;
}
inline std::vector<signing::TrustedKey> test_trusted_keys() {
  return {signing::trusted_key(test_command_key().public_key)};
}

// `c` as an issuer sends it to `agent`: naming the agent, issued now and expiring in an hour
// unless the test set those, signed by `key`.
inline std::vector<std::uint8_t> signed_for(const AgentId& agent, codec::CommandInfo c,
                                            const signing::SigningKey& key = test_command_key()) {
  if (c.agent.is_nil()) c.agent = agent;
  if (c.issued_at == 0) c.issued_at = real_clock().now();
  if (c.expires_at == 0) {
    c.expires_at = c.issued_at + std::chrono::nanoseconds(std::chrono::hours(1)).count();
  }
  return codec::build_signed_command(c, key);
}

inline codec::CommandInfo shell_command(std::string script, std::string interpreter = {}) {
  codec::CommandInfo c;
  c.id = CommandId::generate(real_clock());
  c.issuer = "test";
  c.action = codec::ShellSpec{std::move(script), std::move(interpreter)};
  return c;
}

inline codec::CommandInfo exec_command(std::vector<std::string> argv) {
  codec::CommandInfo c;
  c.id = CommandId::generate(real_clock());
  c.issuer = "test";
  c.action = codec::ExecSpec{std::move(argv)};
  return c;
}

inline codec::CommandInfo action_command(codec::CommandAction action) {
  codec::CommandInfo c;
  c.id = CommandId::generate(real_clock());
  c.issuer = "test";
  c.action = std::move(action);
  return c;
}

// One command lifecycle event, decoded into plain values.
struct CommandEvent {
  schema::Payload type = schema::Payload::NONE;
  CommandId command;
  std::uint64_t agent_seq = 0;
  std::string reason;  // failed, rejected, interrupted
  std::uint32_t pid = 0;
  std::int32_t exit_code = 0;
  bool killed = false;
  bool was_running = false;
  CommandId cancel_command;
  // Output chunks
  schema::OutputStream stream = schema::OutputStream::Stdout;
  std::uint32_t chunk_index = 0;
  std::uint64_t offset = 0;
  std::string data;
  bool truncated = false;
  // Completed / timed out
  std::uint64_t stdout_bytes = 0, stderr_bytes = 0;
  bool stdout_truncated = false, stderr_truncated = false;
  std::string kind;  // received
};

inline std::optional<CommandEvent> decode_command_event(std::span<const std::uint8_t> bytes) {
  std::vector<std::uint8_t> storage;
  auto env = codec::verify_event(codec::aligned_for_read(bytes, storage));
  if (!env) return std::nullopt;
  const auto* e = *env;
  CommandEvent out;
  out.type = e->payload_type();
  out.agent_seq = e->seq();
  auto str = [](const flatbuffers::String* s) { return s != nullptr ? s->str() : std::string(); };
  auto id = [](const schema::Uuid* u) { return CommandId(codec::from_wire(u)); };
  switch (e->payload_type()) {
    case schema::Payload::CommandReceived:
      out.command = id(e->payload_as_CommandReceived()->command_id());
      out.kind = str(e->payload_as_CommandReceived()->kind());
      break;
    case schema::Payload::CommandStarted:
      out.command = id(e->payload_as_CommandStarted()->command_id());
      out.pid = e->payload_as_CommandStarted()->pid();
      break;
    case schema::Payload::CommandOutput: {
      const auto* p = e->payload_as_CommandOutput();
      out.command = id(p->command_id());
      out.stream = p->stream();
      out.chunk_index = p->chunk_index();
      out.offset = p->offset();
      if (p->data() != nullptr) out.data.assign(p->data()->begin(), p->data()->end());
      out.truncated = p->truncated();
      break;
    }
    case schema::Payload::CommandCompleted: {
      const auto* p = e->payload_as_CommandCompleted();
      out.command = id(p->command_id());
      out.exit_code = p->exit_code();
      out.stdout_bytes = p->stdout_bytes();
      out.stderr_bytes = p->stderr_bytes();
      out.stdout_truncated = p->stdout_truncated();
      out.stderr_truncated = p->stderr_truncated();
      break;
    }
    case schema::Payload::CommandFailed:
      out.command = id(e->payload_as_CommandFailed()->command_id());
      out.reason = str(e->payload_as_CommandFailed()->reason());
      break;
    case schema::Payload::CommandTimedOut:
      out.command = id(e->payload_as_CommandTimedOut()->command_id());
      out.killed = e->payload_as_CommandTimedOut()->killed();
      break;
    case schema::Payload::CommandCancelled:
      out.command = id(e->payload_as_CommandCancelled()->command_id());
      out.was_running = e->payload_as_CommandCancelled()->was_running();
      out.cancel_command = id(e->payload_as_CommandCancelled()->cancel_command_id());
      break;
    case schema::Payload::CommandExpired:
      out.command = id(e->payload_as_CommandExpired()->command_id());
      break;
    case schema::Payload::CommandRejected:
      out.command = id(e->payload_as_CommandRejected()->command_id());
      out.reason = str(e->payload_as_CommandRejected()->reason());
      break;
    case schema::Payload::CommandInterrupted:
      out.command = id(e->payload_as_CommandInterrupted()->command_id());
      out.reason = str(e->payload_as_CommandInterrupted()->reason());
      break;
    default:
      return std::nullopt;
  }
  return out;
}

inline bool is_terminal(schema::Payload t) {
  switch (t) {
    case schema::Payload::CommandCompleted:
    case schema::Payload::CommandFailed:
    case schema::Payload::CommandTimedOut:
    case schema::Payload::CommandCancelled:
    case schema::Payload::CommandExpired:
    case schema::Payload::CommandRejected:
    case schema::Payload::CommandInterrupted:
      return true;
    default:
      return false;
  }
}

// Every command event in the outbox (nothing publishes it in these tests), in sequence order.
inline std::vector<CommandEvent> outbox_command_events(agent::Outbox& outbox) {
  std::vector<CommandEvent> out;
  auto events = outbox.next_unsent(AgentSeq{0}, 1'000'000);
  if (!events) return out;
  for (const auto& ev : *events) {
    if (auto e = decode_command_event(ev.bytes)) out.push_back(std::move(*e));
  }
  return out;
}

inline std::vector<CommandEvent> events_of(const std::vector<CommandEvent>& all,
                                           const CommandId& id) {
  std::vector<CommandEvent> out;
  for (const auto& e : all) {
    if (e.command == id) out.push_back(e);
  }
  return out;
}

// Waits until `id` has a terminal event in the outbox; returns all of its events.
inline std::vector<CommandEvent> wait_terminal(agent::Outbox& outbox, const CommandId& id,
                                               std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    auto mine = events_of(outbox_command_events(outbox), id);
    for (const auto& e : mine) {
      if (is_terminal(e.type)) return mine;
    }
    if (std::chrono::steady_clock::now() >= deadline) return mine;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// The output of one stream, concatenated in chunk order.
inline std::string output_of(const std::vector<CommandEvent>& events, schema::OutputStream s) {
  std::string out;
  for (const auto& e : events) {
    if (e.type == schema::Payload::CommandOutput && e.stream == s) out += e.data;
  }
  return out;
}

// Publishes raw bytes to rmm.cmd.<agent> with `conn` and waits for the stream's ack.
inline Status publish_command_bytes(natsConnection* conn, const AgentId& agent,
                                    const std::vector<std::uint8_t>& bytes) {
  std::string subject = codec::agent_command_subject(agent);
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_Request(&reply, conn, subject.c_str(), bytes.data(),
                                        static_cast<int>(bytes.size()), 5000);
  if (s != NATS_OK) return std::unexpected(nats::to_error(s, "publishing a command"));
  std::string ack(natsMsg_GetData(reply), static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  if (ack.find("\"stream\":\"RMM_COMMANDS\"") == std::string::npos) {
    return fail("no stream ack: " + ack);
  }
  return {};
}

// Publishes `command`, signed by `key` (the installation's: NatsServerFixture::command_signer),
// to rmm.cmd.<agent> as the services user and waits for the stream's ack.
inline Status publish_command(natsConnection* services, const AgentId& agent,
                              const codec::CommandInfo& command, const signing::SigningKey& key) {
  return publish_command_bytes(services, agent, signed_for(agent, command, key));
}

}  // namespace rmm::test
