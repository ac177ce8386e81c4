// Unit tests of the analyst tools: rmm-replay's selection and time parsing, rmm-sim's NATS
// protocol parser.
#include <doctest/doctest.h>

#include "tools/replay/selection.h"
#include "tools/sim/nats_wire.h"

using namespace rmm;

TEST_CASE("times on the command line") {
  const UnixNanos now = 1'800'000'000'000'000'000;
  CHECK(replay::parse_time("2026-10-01", now).value() == 1'790'812'800'000'000'000);
  CHECK(replay::parse_time("2026-10-01T00:00:00Z", now).value() == 1'790'812'800'000'000'000);
  CHECK(replay::parse_time("2026-10-01T02:00:00.5+02:00", now).value() ==
        1'790'812'800'500'000'000);
  CHECK(replay::parse_time("1790812800000000000", now).value() == 1'790'812'800'000'000'000);
  CHECK(replay::parse_time("now", now).value() == now);
  CHECK(replay::parse_time("1h", now).value() == now - 3'600'000'000'000);
  CHECK(replay::parse_time("30d", now).value() == now - 30 * 86'400'000'000'000);
  CHECK_FALSE(replay::parse_time("yesterday-ish", now).has_value());
  CHECK_FALSE(replay::parse_time("2026-10-01T00:00:00Q", now).has_value());
}

TEST_CASE("selections become one filter subject and a per-message check") {
  auto a = AgentId::parse("01a21b1b-4e53-73cc-8acc-e72fda6f5c23").value();
  auto b = AgentId::parse("01a21b1b-4e53-703d-a6f9-22aa1e71a53a").value();
  replay::Selection s;
  CHECK(replay::filter_subject(s).empty());
  s.types = {"metrics"};
  CHECK(replay::filter_subject(s) == "rmm.p.*.evt.*.metrics");
  s.types = {"policy_set"};  // a control event: filtered per message
  CHECK(replay::filter_subject(s).empty());
  s.types = {"metrics"};
  s.agents = {a};
  s.agents_selected = true;
  auto one = replay::filter_subject(s);
  CHECK(one.starts_with("rmm.p."));
  CHECK(one.ends_with(".evt." + a.str() + ".metrics"));
  s.agents = {a, b};
  CHECK(replay::filter_subject(s) == "rmm.p.*.evt.*.metrics");

  replay::SubjectMatcher m(s);
  CHECK(m.matches("rmm.p.3.evt." + a.str() + ".metrics"));
  CHECK_FALSE(m.matches("rmm.p.3.evt." + a.str() + ".heartbeat"));
  CHECK_FALSE(m.matches("rmm.p.3.evt.01a21b1b-0000-7000-8000-000000000000.metrics"));
  CHECK_FALSE(m.matches("rmm.ctl.client.metrics"));
  CHECK(replay::subject_agent("rmm.ctl.client.created").empty());
  CHECK(replay::split_list("a,,b,") == std::vector<std::string>{"a", "b"});
}

TEST_CASE("the NATS protocol parser splits operations across reads") {
  sim::WireParser p;
  std::string wire =
      "INFO {\"server_id\":\"x\",\"nonce\":\"abc-123\"}\r\nPING\r\n"
      "MSG _INBOX.a.a 2 10\r\n{\"seq\":42}\r\n"
      "HMSG rmm.cmd.a 1 _INBOX.r 12 17\r\nNATS/1.0\r\n\r\nhello\r\n"
      "HMSG rmm.cmd.a 1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"
      "-ERR 'Permissions Violation'\r\n";
  std::vector<sim::ServerOp> ops;
  std::vector<std::string> payloads, subjects, replies;
  // Feed a byte at a time: every split point must work.
  for (char c : wire) {
    p.feed(&c, 1);
    sim::ServerOp op;
    bool error = false;
    while (p.next(op, error)) {
      ops.push_back(op);
      payloads.emplace_back(op.payload);
      subjects.emplace_back(op.subject);
      replies.emplace_back(op.reply);
    }
    REQUIRE_FALSE(error);
  }
  REQUIRE(ops.size() == 6);
  CHECK(ops[0].kind == sim::ServerOp::Kind::kInfo);
  CHECK(sim::info_nonce(payloads[0]) == "abc-123");
  CHECK(ops[1].kind == sim::ServerOp::Kind::kPing);
  CHECK(ops[2].kind == sim::ServerOp::Kind::kMsg);
  CHECK(subjects[2] == "_INBOX.a.a");
  CHECK(replies[2].empty());
  CHECK(payloads[2] == "{\"seq\":42}");
  CHECK(subjects[3] == "rmm.cmd.a");
  CHECK(replies[3] == "_INBOX.r");
  CHECK(payloads[3] == "hello");
  CHECK(replies[4].empty());
  CHECK(payloads[4] == "hi");
  CHECK(ops[5].kind == sim::ServerOp::Kind::kErr);

  sim::WireParser bad;
  std::string junk = "HMSG a 1 99 5\r\n";  // headers longer than the message
  bad.feed(junk.data(), junk.size());
  sim::ServerOp op;
  bool error = false;
  CHECK_FALSE(bad.next(op, error));
  CHECK(error);

  std::string out;
  sim::append_hpub(out, "rmm.evt.a.metrics", "_INBOX.a.a", "a:1", "xyz");
  CHECK(out ==
        "HPUB rmm.evt.a.metrics _INBOX.a.a 30 33\r\nNATS/1.0\r\nNats-Msg-Id: a:1\r\n\r\nxyz\r\n");
}
