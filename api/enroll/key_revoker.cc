#include "api/enroll/key_revoker.h"

#include <charconv>

#include "admin/revocations.h"
#include "common/files.h"
#include "common/log.h"

namespace rmm::api::enroll {
namespace {

namespace fs = std::filesystem;

pid_t read_pid(const fs::path& file) {
  auto text = files::read_all(file);
  if (!text) return 0;
  long pid = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), pid);
  return ec == std::errc() && pid > 0 ? static_cast<pid_t>(pid) : 0;
}

}  // namespace

KeyRevoker home_key_revoker(RevokerPaths paths, const Clock& clock) {
  return [paths = std::move(paths), &clock](const std::vector<std::string>& keys) -> Status {
    fs::path config =
        paths.nats_config.empty() ? broker::find_server_config(paths.home) : paths.nats_config;
    pid_t pid = read_pid(paths.pid_file.empty() ? paths.home / "run" / "nats.pid" : paths.pid_file);
    if (pid == 0) log::warn("enroll.revoke_no_reload", {{"keys", keys.size()}});
    auto report = broker::revoke_user_keys(broker::RevokeKeysRequest{
        .home = paths.home,
        .user_public_keys = keys,
        .at_unix_seconds = clock.now() / 1'000'000'000,
        .server_config = config,
        .server_pid = pid,
        .nats_url = paths.nats_url,
        .nats_tls = paths.nats_tls,
    });
    if (!report) return std::unexpected(report.error());
    log::info("enroll.keys_revoked",
              {{"keys", keys.size()}, {"servers_updated", report->servers.size()}});
    return Status{};
  };
}

}  // namespace rmm::api::enroll
