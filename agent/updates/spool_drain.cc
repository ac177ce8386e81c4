#include "agent/updates/spool_drain.h"

#include "common/log.h"
#include "common/update_events.h"

namespace rmm::agent::updates {

std::size_t drain_spool(const std::filesystem::path& state_dir, Outbox& outbox,
                        const AgentId& agent, const Clock& clock) {
  std::vector<std::filesystem::path> bad;
  auto entries = spool::list(state_dir, &bad);
  std::error_code ec;
  for (const auto& file : bad) {
    log::warn("spool.unreadable", {{"file", file.string()}});
    std::filesystem::remove(file, ec);
  }
  if (!entries) {
    log::warn("spool.list_failed", {{"error", entries.error().message}});
    return 0;
  }
  std::size_t moved = 0;
  for (const auto& entry : *entries) {
    auto type = spool::payload_type(entry.event);
    auto seq = outbox.append(EventClass::kDurable, type, [&](AgentSeq s) {
      return spool::build(entry, {EventId::generate(clock), agent, s, clock.now()});
    });
    if (!seq) {
      log::error("spool.append_failed", {{"error", seq.error().message}});
      break;  // keep the order: retry from here on the next round
    }
    std::filesystem::remove(entry.file, ec);
    ++moved;
  }
  return moved;
}

}  // namespace rmm::agent::updates
