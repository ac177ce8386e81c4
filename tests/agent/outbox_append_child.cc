// Child process of the outbox crash test: appends events as fast as it can and, after each
// append() returns, writes the 8-byte sequence to a report file. The test SIGKILLs it mid-burst.
//
//   outbox_append_child <outbox dir> <count> <report file> <boot id>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent/outbox/outbox.h"
#include "tests/agent/outbox_test_util.h"

int main(int argc, char** argv) {
  using namespace rmm;
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s <outbox dir> <count> <report file> <boot id>\n", argv[0]);
    return 2;
  }
  const long count = std::strtol(argv[2], nullptr, 10);
  const int report = ::open(argv[3], O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (report < 0) return 3;
  RealClock clock;
  auto box = agent::Outbox::open(argv[1], {256ull << 20, argv[4]}, clock);
  if (!box) {
    std::fprintf(stderr, "open: %s\n", box.error().message.c_str());
    return 4;
  }
  const auto agent_id = AgentId::generate(clock);
  for (long i = 0; i < count; ++i) {
    const auto cls = i % 2 == 0 ? agent::EventClass::kDurable : agent::EventClass::kDroppable;
    const auto seq = test::append_event(**box, agent_id, clock, cls);
    unsigned char b[8];
    for (int k = 0; k < 8; ++k) b[k] = static_cast<unsigned char>(seq.value >> (56 - 8 * k));
    if (::write(report, b, sizeof b) != static_cast<ssize_t>(sizeof b)) return 5;
  }
  return 0;
}
