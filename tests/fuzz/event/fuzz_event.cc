// Fuzz target: arbitrary bytes through the event verifier, then every field of an accepted event
// is read. The libFuzzer entry point: link it with clang -fsanitize=fuzzer to fuzz; it is linked
// into fuzz_event_replay, which ctest runs over corpus/ in every build.
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/event_codec.h"

namespace {

std::size_t touch_string(const flatbuffers::String* s) {
  return s == nullptr ? 0 : s->str().size();
}

std::size_t read_everything(const rmm::schema::Envelope& env) {
  std::size_t n = env.seq() + static_cast<std::size_t>(env.occurred_at_ns()) + env.schema_version();
  n += touch_string(env.source_name());
  n += rmm::codec::from_wire(env.event_id())[0] + rmm::codec::from_wire(env.source_id())[0];
  n += rmm::codec::event_type_token(env.payload_type()).size();
  if (const auto* s = env.payload_as_AgentStarted()) {
    n += touch_string(s->hostname()) + touch_string(s->os_name()) + touch_string(s->os_version()) +
         touch_string(s->kernel()) + touch_string(s->arch()) + touch_string(s->agent_version()) +
         touch_string(s->cpu_model()) + s->cpu_count() + s->memory_total_bytes();
  } else if (const auto* h = env.payload_as_Heartbeat()) {
    n += touch_string(h->agent_version()) + h->uptime_s() + h->outbox_depth();
  } else if (const auto* m = env.payload_as_MetricsSample()) {
    n += static_cast<std::size_t>(m->cpu_percent()) + m->memory_used_bytes();
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto env = rmm::codec::verify_event(std::span<const std::uint8_t>(data, size));
  if (env) {
    volatile std::size_t sink = read_everything(**env);
    (void)sink;
  }
  return 0;
}
