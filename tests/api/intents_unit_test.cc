// Intent input checks and live-event decoding without servers.
#include <doctest/doctest.h>

#include "api/intents/command_request.h"
#include "api/intents/json_input.h"
#include "api/live/live_connection.h"
#include "api/live/live_event.h"
#include "common/command_codec.h"
#include "common/event_codec.h"

using namespace rmm;
using namespace rmm::api;

namespace {

std::string agent_json(const AgentId& a) {
  return R"({"agent_ids":[")" + a.str() + R"(",")" + a.str() + R"("],)";
}

std::vector<std::uint8_t> output_event(const AgentId& agent, std::span<const std::uint8_t> data) {
  codec::AgentEventHeader h{EventId::generate(real_clock()), agent, AgentSeq{7}, 1'000'000'000,
                            schema::Lane::Ordered};
  codec::CommandOutputInfo info{
      CommandId::generate(real_clock()), schema::OutputStream::Stderr, 0, 42, data, false};
  return codec::build_command_output(h, info);
}

}  // namespace

TEST_CASE("command requests: targets, kinds, bounds, summaries") {
  auto a = AgentId::generate(real_clock());
  auto ok = intents::parse_command_request(agent_json(a) +
                                           R"("kind":"shell","script":"\n  df -h\nuptime"})");
  REQUIRE(ok.has_value());
  CHECK(ok->agents.size() == 1);  // duplicates folded
  CHECK(ok->summary == "df -h");
  CHECK(ok->expires_in == std::chrono::seconds(intents::kDefaultExpiresInS));

  auto exec = intents::parse_command_request(
      agent_json(a) + R"("kind":"exec","argv":["ls","-l","/tmp"],"timeout_s":5})");
  REQUIRE(exec.has_value());
  CHECK(exec->summary == "ls -l /tmp");
  CHECK(exec->timeout_ms == 5000);
  auto info = intents::command_for(*exec, CommandId::generate(real_clock()), a, "user:x", 10);
  CHECK(info.expires_at == 10 + intents::kDefaultExpiresInS * 1'000'000'000LL);
  CHECK(info.issuer == "user:x");

  auto reboot = intents::parse_command_request(agent_json(a) + R"("kind":"reboot"})");
  REQUIRE(reboot.has_value());
  CHECK(std::get<codec::RebootSpec>(reboot->action).confirm);

  std::string many = R"({"kind":"reboot","agent_ids":[)";
  for (std::size_t i = 0; i <= intents::kMaxCommandTargets; ++i) {
    many += (i ? ",\"" : "\"") + AgentId::generate(real_clock()).str() + "\"";
  }
  many += "]}";
  for (const std::string& bad :
       {many, agent_json(a) + R"("kind":"shell","script":"x","interpreter":"/bin/sh; rm"})",
        agent_json(a) + R"("kind":"exec","argv":[]})",
        agent_json(a) + R"("kind":"reboot","script":"x"})",
        agent_json(a) + R"("kind":"shell","script":"a\u0000b"})",
        std::string(R"({"kind":"reboot"})"), std::string(R"({"kind":"reboot","site_id":"x"})"),
        agent_json(a) + R"("kind":"reboot","expires_in_s":99999999999999999999})"}) {
    CAPTURE(bad.substr(0, 100));
    auto r = intents::parse_command_request(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Error::Code::kInvalidInput);
  }
}

TEST_CASE("command requests: cmd, powershell and registry kinds, strictly checked") {
  auto a = AgentId::generate(real_clock());
  auto parse = [&](const std::string& rest) {
    return intents::parse_command_request(agent_json(a) + rest);
  };

  auto cmd = parse(R"("kind":"cmd","script":"@echo off\r\necho hi"})");
  REQUIRE(cmd.has_value());
  CHECK(std::get<codec::CmdSpec>(cmd->action).script == "@echo off\r\necho hi");
  CHECK(cmd->summary == "@echo off");
  auto ps = parse(R"("kind":"powershell","script":"Get-Date"})");
  REQUIRE(ps.has_value());
  CHECK(std::get<codec::PowerShellSpec>(ps->action).script == "Get-Date");

  auto set = parse(R"("kind":"registry","op":"set","hive":"HKLM","key":"Software\\X",)"
                   R"("name":"Name","value":{"type":"dword","data":42}})");
  REQUIRE_MESSAGE(set.has_value(), (set ? "" : set.error().message));
  const auto& spec = std::get<codec::RegistrySpec>(set->action);
  CHECK(spec.op == schema::RegistryOperation::Set);
  CHECK(spec.hive == schema::RegistryHive::HKLM);
  CHECK(spec.key == "Software\\X");
  CHECK(spec.name == "Name");
  CHECK(spec.value.type == schema::RegistryValueType::Dword);
  CHECK(spec.value.number == 42);
  CHECK(set->summary == "registry set HKLM\\Software\\X\\Name");

  auto value_of = [&](const std::string& value) {
    auto r = parse(R"("kind":"registry","op":"set","hive":"hkey_current_user","key":"K",)"
                   R"("name":"","value":)" +
                   value + "}");
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
    CHECK(r->summary == "registry set HKCU\\K\\(Default)");
    return std::get<codec::RegistrySpec>(r->action).value;
  };
  CHECK(value_of(R"({"type":"string","data":"a\nb"})").text == "a\nb");
  CHECK(value_of(R"({"type":"expand_string","data":"%TEMP%"})").type ==
        schema::RegistryValueType::ExpandString);
  CHECK(value_of(R"({"type":"multi_string","data":["x","y"]})").strings ==
        std::vector<std::string>{"x", "y"});
  CHECK(value_of(R"({"type":"dword","data":"4294967295"})").number == 4294967295ULL);
  CHECK(value_of(R"({"type":"qword","data":"18446744073709551615"})").number ==
        18446744073709551615ULL);
  CHECK(value_of(R"({"type":"qword","data":18446744073709551615})").number ==
        18446744073709551615ULL);
  CHECK(value_of(R"({"type":"binary","data":"00ffAB"})").bytes ==
        std::vector<std::uint8_t>{0x00, 0xFF, 0xAB});
  CHECK(value_of(R"({"type":"binary","data":""})").bytes.empty());

  auto list = parse(R"("kind":"registry","op":"list","hive":"HKCR"})");
  REQUIRE(list.has_value());
  CHECK(list->summary == "registry list HKCR");
  auto del = parse(R"("kind":"registry","op":"delete_key","hive":"HKLM","key":"Software\\Old"})");
  REQUIRE(del.has_value());
  CHECK(del->summary == "registry delete_key HKLM\\Software\\Old");

  struct Bad {
    std::string body;
    std::string says;
  };
  const std::vector<Bad> bad = {
      {R"("kind":"cmd"})", "a cmd command needs 'script'"},
      {R"("kind":"powershell","script":""})", "a powershell command needs 'script'"},
      {R"("kind":"cmd","script":"dir","interpreter":"bash"})", "'interpreter' does not apply"},
      {R"("kind":"cmd","script":"dir","hive":"HKLM"})", "'hive' does not apply to a cmd"},
      {R"("kind":"shell","script":"ls","op":"list"})", "'op' does not apply to a shell"},
      {R"("kind":"registry","hive":"HKLM"})", "'op' is required"},
      {R"("kind":"registry","op":"rename","hive":"HKLM"})", "'op' must be list, get, set"},
      {R"("kind":"registry","op":"list"})", "'hive' is required"},
      {R"("kind":"registry","op":"list","hive":"HKPD"})", "'hive' must be HKLM, HKCU"},
      {R"("kind":"registry","op":"list","hive":"HKLM","key":"A\\\\B"})", "empty part"},
      {R"("kind":"registry","op":"list","hive":"HKLM","key":"\\A"})", "empty part"},
      {R"("kind":"registry","op":"list","hive":"HKLM","name":"x"})", "'name' does not apply"},
      {R"("kind":"registry","op":"get","hive":"HKLM","key":"A"})", "'name' is required for get"},
      {R"("kind":"registry","op":"delete_key","hive":"HKLM"})", "needs a key below the hive"},
      {R"("kind":"registry","op":"get","hive":"HKLM","key":"A","name":"n","value":{}})",
       "'value' does not apply to get"},
      {R"("kind":"registry","op":"set","hive":"HKLM","key":"A","name":"n"})",
       "'value' is required for set"},
      {R"("kind":"registry","op":"set","hive":"HKLM","key":"A","name":"n","value":"x"})",
       "'value' must be an object"},
      {R"("kind":"registry","op":"set","hive":"HKLM","key":"A","name":"n",)"
       R"("value":{"type":"REG_SZ","data":"x"}})",
       "'value.type' must be one of string, expand_string"},
      {R"("kind":"registry","op":"set","hive":"HKLM","key":"A","name":"n",)"
       R"("value":{"type":"other","data":"00"}})",
       "'value.type' must be one of"},
      {R"("kind":"registry","op":"set","hive":"HKLM","key":"A","name":"n",)"
       R"("value":{"type":"string","data":"x","extra":1}})",
       "only 'type' and 'data'"},
      {R"("kind":"registry","op":"set","hive":"HKLM","key":"A","name":"n",)"
       R"("value":{"type":"string"}})",
       "'value.data' is required"},
      {R"("kind":"registry","op":"set","hive":"HKLM","key":"A","name":"n",)"
       R"("value":{"type":"dword","data":4294967296}})",
       "from 0 to 4294967295"},
      {R"("kind":"registry","op":"set","hive":"HKLM","key":"A","name":"n",)"
       R"("value":{"type":"dword","data":-1}})",
       "from 0 to 4294967295"},
      {R"("kind":"registry","op":"set","hive":"HKLM","key":"A","name":"n",)"
       R"("value":{"type":"qword","data":"18446744073709551616"}})",
       "from 0 to 18446744073709551615"},
      {R"("kind":"registry","op":"set","hive":"HKLM","key":"A","name":"n",)"
       R"("value":{"type":"dword","data":1.5}})",
       "must be an integer"},
      {R"("kind":"registry","op":"set","hive":"HKLM","key":"A","name":"n",)"
       R"("value":{"type":"binary","data":"abc"}})",
       "even number of hex digits"},
      {R"("kind":"registry","op":"set","hive":"HKLM","key":"A","name":"n",)"
       R"("value":{"type":"binary","data":"zz"}})",
       "even number of hex digits"},
      {R"("kind":"registry","op":"set","hive":"HKLM","key":"A","name":"n",)"
       R"("value":{"type":"multi_string","data":["a",""]}})",
       "cannot hold an empty string"},
      {R"("kind":"registry","op":"set","hive":"HKLM","key":"A","name":"n",)"
       R"("value":{"type":"multi_string","data":"a"}})",
       "array of strings"},
      {R"("kind":"registry","op":"set","hive":"HKLM","key":"A","name":"n",)"
       R"("value":{"type":"string","data":"a\u0000b"}})",
       "control characters"},
  };
  for (const auto& b : bad) {
    CAPTURE(b.body);
    auto r = parse(b.body);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Error::Code::kInvalidInput);
    CHECK_MESSAGE(r.error().message.find(b.says) != std::string::npos, r.error().message);
  }
}

TEST_CASE("json input: unknown fields, types, times") {
  auto body = intents::Body::parse(R"({"name":"x","n":3})", {"name", "n"});
  REQUIRE(body.has_value());
  CHECK(body->integer("n", 0, 2).error().code == Error::Code::kInvalidInput);
  CHECK_FALSE(intents::Body::parse(R"({"name":"x","evil":1})", {"name"}).has_value());
  CHECK_FALSE(intents::Body::parse("[]", {}).has_value());
  CHECK(intents::Body::parse("", {}).has_value());

  auto t = intents::parse_rfc3339("2026-01-02T03:04:05.678Z");
  REQUIRE(t.has_value());
  CHECK(intents::format_rfc3339(*t) == "2026-01-02T03:04:05.678Z");
  CHECK_FALSE(intents::parse_rfc3339("2026-01-02T03:04:05+02:00").has_value());
  CHECK_FALSE(intents::parse_rfc3339("2026-13-02T03:04:05Z").has_value());
}

TEST_CASE("json input: a key named twice in one object is refused, at any depth") {
  auto dup = intents::Body::parse(R"({"name":"x","name":"y"})", {"name"});
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().code == Error::Code::kInvalidInput);
  CHECK(dup.error().message.find("twice") != std::string::npos);
  // The same key spelled with an escape is the same key.
  CHECK_FALSE(intents::parse_json_strict(R"({"a":1,"\u0061":2})").has_value());
  CHECK_FALSE(
      intents::parse_json_strict(R"({"settings":{"k":"1","x":[{"k":1}],"k":"2"}})").has_value());
  CHECK_FALSE(intents::parse_json_strict(R"([{"a":1},{"b":1,"b":2}])").has_value());
  // The same key in sibling or nested objects is fine.
  auto ok = intents::parse_json_strict(R"({"a":{"a":1},"b":[{"a":1},{"a":2}]})");
  REQUIRE(ok.has_value());
  CHECK(ok->at("b").as_array().size() == 2);
  CHECK_FALSE(intents::parse_json_strict("{\"a\":1").has_value());
  CHECK_FALSE(intents::parse_json_strict("[[[[1]]]]", 3).has_value());
  CHECK(intents::parse_json_strict("[[[1]]]", 3).has_value());
}

TEST_CASE("live events: verified, agent from the subject, output as safe UTF-8 text") {
  auto agent = AgentId::generate(real_clock());
  const std::uint8_t raw[] = {'<', 's', '>', 0xff, 'o', 'k', 0xc0, 0xaf, '\n', 0xe2, 0x82, 0xac};
  auto bytes = output_event(agent, raw);
  std::string subject = "rmm.p.3.evt." + agent.str() + ".cmd_output";
  auto ev = live::decode_live_event(subject, bytes);
  REQUIRE(ev.has_value());
  CHECK(ev->kind == live::LiveKind::kCommandOutput);
  CHECK(ev->agent == agent);
  CHECK(ev->data.find(R"("stream":"stderr")") != std::string::npos);
  CHECK(ev->data.find(R"("offset":42)") != std::string::npos);
  // Invalid bytes (a lone 0xff, an overlong '/') become U+FFFD; the newline is escaped.
  CHECK(ev->data.find("<s>\xEF\xBF\xBDok\xEF\xBF\xBD\xEF\xBF\xBD\\n\xE2\x82\xAC") !=
        std::string::npos);
  CHECK(ev->data.find('\n') == std::string::npos);

  // Another agent's subject, garbage, or a control subject for an agent event: nothing.
  auto other = AgentId::generate(real_clock());
  CHECK_FALSE(live::decode_live_event("rmm.p.3.evt." + other.str() + ".cmd_output", bytes));
  CHECK_FALSE(live::decode_live_event(subject, std::vector<std::uint8_t>{1, 2, 3}));
  CHECK_FALSE(live::decode_live_event("rmm.ctl.command.command_issued", bytes));

  CHECK(live::sse_frame("agent", "{}") == "event: agent\ndata: {}\n\n");
}

TEST_CASE("live connections: scope filter and a bounded queue that resyncs") {
  UuidBytes client_a = AgentId::generate(real_clock()).bytes();
  UuidBytes site_b = AgentId::generate(real_clock()).bytes();
  live::Visibility v{false, {client_a}, {}};
  CHECK(v.sees({client_a, site_b}));
  CHECK_FALSE(v.sees({site_b, site_b}));
  CHECK_FALSE(v.sees({}));
  CHECK(live::Visibility{true, {}, {}}.sees({}));

  live::LiveConnection c(v, 100, std::chrono::seconds(15));
  int wakes = 0;
  c.start([&] { ++wakes; });
  bool ended = false;
  CHECK(c.take(ended).find("retry:") != std::string::npos);
  std::string frame = live::sse_frame("agent", std::string(40, 'x'));
  CHECK(c.push(frame));
  CHECK(c.push(frame));  // past 100 bytes: everything is replaced by one resync
  CHECK(c.push(frame));  // dropped until the client has drained
  CHECK(c.take(ended) == live::sse_frame("resync", "{}"));
  CHECK(c.dropped() == 2);
  CHECK(c.push(frame));
  CHECK(c.take(ended) == frame);
  CHECK(wakes >= 4);
  c.stop();
  CHECK_FALSE(c.push(frame));
  c.take(ended);
  CHECK(ended);
}
