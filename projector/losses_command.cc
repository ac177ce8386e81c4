#include "projector/losses_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "common/pg.h"
#include "projector/db/stream_losses.h"

namespace rmm::projector {
namespace {

// Who acknowledged: the login name and host of the command's caller.
std::string operator_name() {
  const char* user = std::getenv("USER");
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  return fmt::format("{} on {}", user != nullptr && *user != '\0' ? user : "unknown", host.data());
}

}  // namespace

int run_losses(const std::string& pg_url, const std::string& acknowledge) {
  std::optional<std::int64_t> id;
  if (!acknowledge.empty() && acknowledge != "all") {
    std::int64_t v = 0;
    auto [end, ec] =
        std::from_chars(acknowledge.data(), acknowledge.data() + acknowledge.size(), v);
    if (ec != std::errc() || end != acknowledge.data() + acknowledge.size() || v <= 0) {
      std::fprintf(stderr, "rmm-projector: --acknowledge wants 'all' or a loss id, not '%s'\n",
                   acknowledge.c_str());
      return 2;
    }
    id = v;
  }
  auto conn = pg::connect(pg_url, {.attempts = 3});
  if (!conn) {
    std::fprintf(stderr, "rmm-projector: %s\n", conn.error().message.c_str());
    return 2;
  }
  if (!acknowledge.empty()) {
    auto n = db::acknowledge_stream_losses(**conn, id, operator_name());
    if (!n) {
      std::fprintf(stderr, "rmm-projector: %s\n", n.error().message.c_str());
      return 2;
    }
    std::printf("acknowledged %d stream loss%s\n", *n, *n == 1 ? "" : "es");
    if (id && *n == 0) {
      std::fprintf(stderr, "rmm-projector: no open stream loss has id %s\n", acknowledge.c_str());
      return 2;
    }
    return 0;
  }
  auto open = db::open_stream_losses(**conn);
  if (!open) {
    std::fprintf(stderr, "rmm-projector: %s\n", open.error().message.c_str());
    return 2;
  }
  if (open->empty()) {
    std::printf("no stream losses\n");
    return 0;
  }
  std::uint64_t events = 0;
  for (const auto& l : *open) {
    events += l.count;
    // The range's control events folded from the archive are not lost: say so beside the count.
    const std::string recovered =
        l.recovered == 0
            ? std::string()
            : fmt::format(", besides {} control events recovered from the archive", l.recovered);
    std::printf(
        "stream loss %lld: %s sequences %llu-%llu (%llu events%s) deleted before projection "
        "%s folded them; detected %s; %s\n",
        static_cast<long long>(l.id), l.stream.c_str(), static_cast<unsigned long long>(l.from_seq),
        static_cast<unsigned long long>(l.to_seq), static_cast<unsigned long long>(l.count),
        recovered.c_str(), l.projection.c_str(), l.detected_at.c_str(), l.reason.c_str());
  }
  std::printf(
      "%zu stream loss%s not acknowledged (%llu events); after dealing with the cause "
      "(docs/operations.md, When the stream overflows): "
      "rmm-projector losses --acknowledge=all\n",
      open->size(), open->size() == 1 ? "" : "es", static_cast<unsigned long long>(events));
  return 1;
}

}  // namespace rmm::projector
