// kill -9 of a process in the middle of a burst of appends: nothing append() returned is lost,
// and no sequence is reused.
#include <doctest/doctest.h>

#include <thread>

#include "agent/outbox/outbox.h"
#include "common/files.h"
#include "tests/agent/outbox_test_util.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;

namespace {

constexpr int kBurst = 50'000;

// Starts the child, waits until it reported `kill_after` appends, SIGKILLs it; returns every
// sequence it reported (complete 8-byte records only).
std::vector<std::uint64_t> burst_and_kill(const std::filesystem::path& outbox,
                                          const std::filesystem::path& report,
                                          const std::string& boot, std::uintmax_t kill_after) {
  auto child =
      test::Process::start({RMM_OUTBOX_CHILD,
                            {outbox.string(), std::to_string(kBurst), report.string(), boot},
                            {},
                            report.string() + ".log"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline && child.running()) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(report, ec);
    if (!ec && size >= kill_after * 8) break;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const bool killed_mid_burst = child.running();
  child.kill9();
  CHECK_MESSAGE(killed_mid_burst, "the child finished (or died) before it could be killed");
  auto text = files::read_all(report);
  REQUIRE(text.has_value());
  std::vector<std::uint64_t> seqs;
  for (std::size_t at = 0; at + 8 <= text->size(); at += 8) {
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < 8; ++k) v = (v << 8) | static_cast<std::uint8_t>((*text)[at + k]);
    seqs.push_back(v);
  }
  return seqs;
}

void check_all_present(agent::Outbox& box, const std::vector<std::uint64_t>& seqs) {
  std::size_t missing = 0;
  for (auto s : seqs) {
    auto ev = box.get(AgentSeq{s});
    REQUIRE(ev.has_value());
    if (!ev->has_value()) ++missing;
  }
  CHECK_MESSAGE(missing == 0, missing << " of " << seqs.size() << " acknowledged appends lost");
}

}  // namespace

TEST_CASE("kill -9 during a burst of appends loses nothing append() returned") {
  test::TempDir dir("outbox-crash");
  const auto outbox = dir / "outbox";
  RealClock clock;
  const auto agent_id = AgentId::generate(clock);

  // Crash 1, reopened in the same boot: the page cache kept every write, so the sequence
  // continues right after the last stored event.
  auto first = burst_and_kill(outbox, dir / "report1", "boot-a", 10'000);
  REQUIRE(first.size() >= 10'000);
  CHECK(first.size() < kBurst);
  for (std::size_t i = 0; i < first.size(); ++i) REQUIRE(first[i] == i + 1);
  std::uint64_t after_first = 0;
  {
    auto box = agent::Outbox::open(outbox, {256ull << 20, "boot-a"}, clock);
    REQUIRE(box.has_value());
    check_all_present(**box, first);
    CHECK((*box)->last_seq().value >= first.back());
    const auto next = test::append_event(**box, agent_id, clock, agent::EventClass::kDurable);
    CHECK(next.value == (*box)->depth());  // no gap: every earlier sequence is stored
    CHECK(next.value > first.back());
    after_first = next.value;
  }

  // Crash 2, reopened as if after a reboot: a power loss could have lost unsynced appends, so
  // the sequence continues above the durably reserved block (a gap, never a reuse).
  auto second = burst_and_kill(outbox, dir / "report2", "boot-a", 10'000);
  REQUIRE_FALSE(second.empty());
  CHECK(second.front() == after_first + 1);
  auto box = agent::Outbox::open(outbox, {256ull << 20, "boot-b"}, clock);
  REQUIRE(box.has_value());
  check_all_present(**box, first);
  check_all_present(**box, second);
  const auto next = test::append_event(**box, agent_id, clock, agent::EventClass::kDurable);
  CHECK(next.value > second.back());
  CHECK(next.value % agent::Outbox::kSeqReservation == 1);
}
