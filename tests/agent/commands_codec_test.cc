// Command envelopes and lifecycle events: round trips, verification, and the exactly-once store.
#include <doctest/doctest.h>

#include <algorithm>

#include "agent/commands/command_fetcher.h"
#include "agent/commands/command_store.h"
#include "tests/agent/commands_test_util.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

TEST_CASE("every command payload survives build, verify and read") {
  std::vector<codec::CommandAction> actions = {
      codec::ShellSpec{"echo hi", "bash"},
      codec::ExecSpec{{"/bin/ls", "-l", "/"}},
      codec::PowerShellSpec{"Get-Date"},
      codec::RefreshInventorySpec{},
      codec::CollectProcessesSpec{},
      codec::ApplyConfigSpec{{{"metrics-interval", "5s"}, {"a", ""}}},
      codec::RebootSpec{true},
      codec::UpdateAgentSpec{"1.2.3", "https://example/agent", "abcd"},
      codec::CancelSpec{CommandId::generate(real_clock())},
      codec::TrustCommandKeysSpec{{std::string(64, 'a'), std::string(64, 'b')}},
      codec::CmdSpec{"echo hi"},
      codec::RegistrySpec{.op = schema::RegistryOperation::Get, .key = "Software", .name = "x"},
      codec::KillProcessSpec{4242, "sleep"},
  };
  const char* kinds[] = {"shell",
                         "exec",
                         "powershell",
                         "refresh_inventory",
                         "collect_processes",
                         "apply_config",
                         "reboot",
                         "update_agent",
                         "cancel",
                         "trust_command_keys",
                         "cmd",
                         "registry",
                         "kill_process"};
  for (std::size_t i = 0; i < actions.size(); ++i) {
    CAPTURE(i);
    auto c = action_command(actions[i]);
    c.agent = AgentId::generate(real_clock());
    c.expires_at = 123;
    c.timeout_ms = 4567;
    c.output_cap_bytes = 890;
    c.working_dir = "/var/tmp";
    c.env = {{"A", "1"}, {"B", "two words"}};
    auto bytes = codec::build_command(c);
    auto env = codec::verify_command(bytes);
    REQUIRE(env.has_value());
    auto back = codec::read_command(**env);
    REQUIRE(back.has_value());
    CHECK(back->id == c.id);
    CHECK(back->agent == c.agent);
    CHECK(back->expires_at == 123);
    CHECK(back->timeout_ms == 4567);
    CHECK(back->output_cap_bytes == 890);
    CHECK(back->working_dir == "/var/tmp");
    CHECK(back->env == c.env);
    CHECK(back->action.index() == i);
    CHECK(codec::command_kind(back->action) == kinds[i]);
    CHECK(codec::command_kind((*env)->payload_type()) == kinds[i]);
  }
  auto shell = codec::read_command(
      **codec::verify_command(codec::build_command(shell_command("echo 1", "python3"))));
  REQUIRE(shell.has_value());
  CHECK(std::get<codec::ShellSpec>(shell->action).interpreter == "python3");
}

TEST_CASE("a signed command opens only with a trusted key, unaltered, for its own agent") {
  const AgentId self = AgentId::generate(real_clock());
  auto c = shell_command("echo signed");
  c.agent = self;
  c.issued_at = 1;
  c.expires_at = 2;
  const auto key = signing::generate_key();
  const std::vector trusted = {signing::trusted_key(key.public_key)};
  const auto bytes = codec::build_signed_command(c, key);

  auto ok = codec::open_command(bytes, trusted, self);
  CHECK_FALSE(ok.refusal.has_value());
  CHECK(ok.id == c.id);
  CHECK(ok.key_id == signing::key_id(key.public_key));
  CHECK(ok.envelope == codec::build_command(c));  // the exact bytes that were signed
  CHECK(codec::signed_command_envelope(bytes).value() == ok.envelope);

  auto refusal = [&](std::span<const std::uint8_t> b, const AgentId& agent) {
    auto opened = codec::open_command(b, trusted, agent);
    REQUIRE(opened.refusal.has_value());
    return *opened.refusal;
  };
  CHECK(refusal(bytes, AgentId::generate(real_clock())) == codec::CommandRefusal::kOtherAgent);
  CHECK(refusal(codec::build_command(c), self) == codec::CommandRefusal::kNotSigned);
  CHECK(refusal(codec::build_signed_command(c, signing::generate_key()), self) ==
        codec::CommandRefusal::kUnknownKey);
  // Every single byte of the envelope is covered.
  const auto envelope = codec::build_command(c);
  for (std::size_t i = 0; i < envelope.size(); ++i) {
    auto altered = envelope;
    altered[i] ^= 0x01;
    auto wrapped = codec::build_signed_command(c, key);  // a valid signature of the original...
    auto pos = std::search(wrapped.begin(), wrapped.end(), envelope.begin(), envelope.end());
    REQUIRE(pos != wrapped.end());
    std::copy(altered.begin(), altered.end(), pos);  // ...over altered bytes
    auto r = codec::open_command(wrapped, trusted, self);
    CAPTURE(i);
    REQUIRE(r.refusal.has_value());
    CHECK((*r.refusal == codec::CommandRefusal::kBadSignature ||
           *r.refusal == codec::CommandRefusal::kUnreadable));
  }
  auto unsigned_nobody = c;
  unsigned_nobody.agent = AgentId();
  CHECK(refusal(codec::build_signed_command(unsigned_nobody, key), self) ==
        codec::CommandRefusal::kNoAgent);
  std::vector<std::uint8_t> empty;
  CHECK(refusal(empty, self) == codec::CommandRefusal::kUnreadable);
  CHECK_FALSE(codec::signed_command_envelope(codec::build_command(c)).has_value());
}

TEST_CASE("lifecycle events verify and carry their subject tokens") {
  codec::AgentEventHeader h{EventId::generate(real_clock()), AgentId::generate(real_clock()),
                            AgentSeq{5}, 42};
  auto id = CommandId::generate(real_clock());
  std::string data = "chunk";
  std::vector<std::pair<std::vector<std::uint8_t>, std::string_view>> built = {
      {codec::build_command_received(h, {id, "shell", "user:1", 9}), "cmd_received"},
      {codec::build_command_started(h, id, 77), "cmd_started"},
      {codec::build_command_output(
           h, {id, schema::OutputStream::Stderr, 3, 10,
               std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()), true}),
       "cmd_output"},
      {codec::build_command_completed(h, {.command = id, .exit_code = 2}), "cmd_completed"},
      {codec::build_command_failed(h, id, "no"), "cmd_failed"},
      {codec::build_command_timed_out(h, {.command = id, .killed = true}), "cmd_timeout"},
      {codec::build_command_cancelled(h, {.command = id, .was_running = true}), "cmd_cancelled"},
      {codec::build_command_expired(h, id, 5), "cmd_expired"},
      {codec::build_command_rejected(h, id, "why"), "cmd_rejected"},
      {codec::build_command_interrupted(h, id, "died"), "cmd_interrupted"},
  };
  for (const auto& [bytes, token] : built) {
    CAPTURE(token);
    auto env = codec::verify_event(bytes);
    REQUIRE(env.has_value());
    CHECK(codec::event_type_token((*env)->payload_type()) == token);
    auto e = decode_command_event(bytes);
    REQUIRE(e.has_value());
    CHECK(e->command == id);
  }
  auto out = decode_command_event(built[2].first);
  CHECK(out->data == "chunk");
  CHECK(out->stream == schema::OutputStream::Stderr);
  CHECK(out->offset == 10);
  CHECK(out->truncated);
}

TEST_CASE("an unaligned copy of a command reads like the original") {
  auto bytes = codec::build_command(shell_command("echo aligned"));
  std::vector<std::uint8_t> shifted(bytes.size() + 1);
  std::copy(bytes.begin(), bytes.end(), shifted.begin() + 1);
  std::vector<std::uint8_t> storage;
  auto view = codec::aligned_for_read(std::span(shifted).subspan(1), storage);
  CHECK(reinterpret_cast<std::uintptr_t>(view.data()) % alignof(std::max_align_t) == 0);
  auto env = codec::verify_command(view);
  REQUIRE(env.has_value());
  CHECK(std::get<codec::ShellSpec>(codec::read_command(**env)->action).script == "echo aligned");
}

TEST_CASE("ack subjects give the stream position and delivery count") {
  auto d = agent::parse_ack_subject("$JS.ACK.RMM_COMMANDS.abc.3.42.7.1700000000000000000.0");
  CHECK(d.delivery_count == 3);
  CHECK(d.stream_seq.value == 42);
  auto domain = agent::parse_ack_subject(
      "$JS.ACK.hub.ACCHASH.RMM_COMMANDS.abc.1.9.7.1700000000000000000.0.x");
  CHECK(domain.stream_seq.value == 9);
  CHECK(agent::parse_ack_subject("_INBOX.x.y").stream_seq.value == 0);
}

TEST_CASE("the command store keeps states across reopen and prunes old finished records") {
  TempDir dir("cmdstore");
  FakeClock clock;
  auto a = CommandId::generate(clock), b = CommandId::generate(clock),
       c = CommandId::generate(clock);
  std::vector<std::uint8_t> env = {1, 2, 3};
  {
    auto store = agent::CommandStore::open(dir / "s", clock);
    REQUIRE(store.has_value());
    CHECK((*store)->record_queued(a, env) == 1u);
    CHECK((*store)->record_queued(b, env) == 2u);
    REQUIRE((*store)->record_finished(c).has_value());
    REQUIRE((*store)->mark_running(a, "boot").has_value());
    CHECK_FALSE((*store)->mark_running(CommandId::generate(clock), "boot").has_value());
  }
  clock.advance(std::chrono::hours(24 * 41));
  auto store = agent::CommandStore::open(dir / "s", clock);
  REQUIRE(store.has_value());
  auto open = (*store)->unfinished();
  REQUIRE(open.has_value());
  REQUIRE(open->size() == 2);
  CHECK((*open)[0].id == a);
  CHECK((*open)[0].state == agent::CommandState::kRunning);
  CHECK((*open)[0].boot_id == "boot");
  CHECK((*open)[0].envelope == env);
  CHECK((*open)[1].id == b);
  CHECK((*open)[1].state == agent::CommandState::kQueued);
  // c finished 41 days ago: past the 40-day retention, gone; the unfinished ones never go.
  CHECK_FALSE((*(*store)->find(c)).has_value());
  CHECK((*store)->size() == 2);
  // Arrival numbers keep growing after a reopen, past pruned ones too (c had 3).
  CHECK((*store)->record_queued(CommandId::generate(clock), env) == 4u);

  agent::CommandStoreOptions small;
  small.max_records = 2;
  REQUIRE((*store)->mark_finished(a).has_value());
  REQUIRE((*store)->mark_finished(b).has_value());
  store->reset();
  auto capped = agent::CommandStore::open(dir / "s", clock, small);
  REQUIRE(capped.has_value());
  CHECK((*capped)->size() <= 3);  // the unfinished one stays, the oldest finished one went
  CHECK((*(*capped)->unfinished()).size() == 1);
}
