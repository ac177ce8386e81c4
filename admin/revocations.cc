#include "admin/revocations.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <utility>

#include "admin/account_push.h"
#include "admin/files.h"
#include "admin/identity.h"
#include "admin/jwt.h"
#include "admin/streams.h"
#include "common/files.h"
#include "common/log.h"

namespace rmm::broker {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::string_view kFileName = "revocations.json";
constexpr std::string_view kLockName = "revocations.lock";

// An exclusive flock on <nats_dir>/revocations.lock for as long as it lives: revoke_user_keys
// reads, extends and rewrites revocations.json, the account JWT and the server config, and
// several writers may run at once (rmm-admin, rmm-api's revocation route and its enrollment
// responder). Without it one writer's keys could be lost to another's rewrite.
class HomeLock {
 public:
  static Result<HomeLock> acquire(const fs::path& nats_dir) {
    fs::path path = nats_dir / kLockName;
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return failf("opening {}: {}", path.string(), std::strerror(errno));
    int rc = -1;
    // A signal interrupts the wait; a bounded number of them is retried.
    for (int attempt = 0; attempt < 100 && rc != 0; ++attempt) {
      rc = ::flock(fd, LOCK_EX);
      if (rc != 0 && errno != EINTR) break;
    }
    if (rc != 0) {
      int err = errno;
      ::close(fd);
      return failf("locking {}: {}", path.string(), std::strerror(err));
    }
    return HomeLock(fd);
  }
  HomeLock(HomeLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  HomeLock& operator=(HomeLock&&) = delete;
  ~HomeLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  explicit HomeLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace

Result<RevocationMap> load_revocations(const fs::path& nats_dir) {
  fs::path path = nats_dir / kFileName;
  std::error_code ec;
  if (!fs::exists(path, ec)) return RevocationMap{};
  auto text = files::read_all(path);
  if (!text) return std::unexpected(text.error());
  json::error_code jec;
  auto doc = json::parse(*text, jec);
  if (jec || !doc.is_object()) return failf("{}: not a JSON object", path.string());
  RevocationMap out;
  for (const auto& [key, value] : doc.as_object()) {
    auto role = role_of_public_key(key);
    if (!role || *role != KeyRole::kUser || !value.is_int64()) {
      return failf("{}: entry '{}' is not a user key with Unix seconds", path.string(),
                   std::string_view(key));
    }
    out.emplace(std::string(key), value.as_int64());
  }
  return out;
}

Status save_revocations(const fs::path& nats_dir, const RevocationMap& revocations) {
  json::object doc;
  for (const auto& [key, at] : revocations) doc[key] = at;
  return files::write_atomic(nats_dir / kFileName, json::serialize(doc) + "\n", 0600);
}

Result<std::string> replace_preloaded_jwt(std::string_view config_text,
                                          std::string_view account_public_key,
                                          std::string_view jwt) {
  // The template's preload line: `  <account key>: "<jwt>"`.
  std::string marker = fmt::format("{}: \"", account_public_key);
  auto at = config_text.find(marker);
  if (at == std::string_view::npos) {
    return failf("no preloaded JWT for account {} in the server config", account_public_key);
  }
  auto start = at + marker.size();
  auto end = config_text.find('"', start);
  if (end == std::string_view::npos) return fail("unterminated preloaded JWT in the server config");
  std::string out(config_text.substr(0, start));
  out += jwt;
  out += config_text.substr(end);
  return out;
}

fs::path find_server_config(const fs::path& home) {
  std::error_code ec;
  for (auto path : {home / "nats" / "nats-server.conf", home / "nats-server.conf"}) {
    if (fs::exists(path, ec)) return path;
  }
  return {};
}

std::int64_t account_claims_version(const RevocationMap& revocations) {
  std::int64_t version = kAccountClaimsEpoch;
  for (const auto& [key, at] : revocations) version = std::max(version, at);
  return version;
}

Result<RevocationMap> revocations_in_jwt(std::string_view jwt, std::string_view operator_public_key,
                                         std::string_view account_public_key) {
  auto verified = decode_and_verify_jwt(jwt);
  if (!verified) return std::unexpected(verified.error());
  if (verified->issuer != operator_public_key || verified->subject != account_public_key) {
    return failf("account JWT of {} signed by {}: not our operator's for {}", verified->subject,
                 verified->issuer, account_public_key);
  }
  RevocationMap out;
  const auto* nats = verified->claims.if_contains("nats");
  if (nats == nullptr || !nats->is_object()) return out;
  const auto* revoked = nats->as_object().if_contains("revocations");
  if (revoked == nullptr || !revoked->is_object()) return out;
  for (const auto& [key, value] : revoked->as_object()) {
    auto role = role_of_public_key(key);
    if (role && *role == KeyRole::kUser && value.is_int64()) {
      out.emplace(std::string(key), value.as_int64());
    }
  }
  return out;
}

namespace {

// Adds what the servers hold to `revocations` (the later time of a key wins: the stricter).
Status merge_from_servers(natsConnection* nc, const Identity& id, const std::string& urls,
                          RevocationMap& revocations) {
  auto jwts = lookup_account_jwts(nc, id.rmm_account.public_key(), {.expected = url_count(urls)});
  if (!jwts) return std::unexpected(jwts.error());
  for (const auto& jwt : *jwts) {
    auto theirs =
        revocations_in_jwt(jwt, id.operator_key.public_key(), id.rmm_account.public_key());
    if (!theirs) {
      log::warn("revoke.lookup_ignored", {{"error", theirs.error().message}});
      continue;
    }
    for (const auto& [key, at] : *theirs) {
      auto [it, added] = revocations.emplace(key, at);
      if (!added) it->second = std::max(it->second, at);
    }
  }
  return {};
}

Result<RevokeReport> push(natsConnection* nc, const Identity& id, const std::string& urls) {
  auto replies = push_account_jwt(nc, id.rmm_account.public_key(), id.rmm_account_jwt,
                                  {.expected = url_count(urls)});
  if (!replies) return std::unexpected(replies.error());
  RevokeReport report;
  for (const auto& r : *replies) {
    if (!r.ok) return failf("server {} refused the account JWT: {}", r.server, r.message);
    report.servers.push_back(r.server);
  }
  return report;
}

}  // namespace

Result<RevokeReport> revoke_user_keys(const RevokeKeysRequest& request) {
  fs::path nats_dir = request.home / "nats";
  auto lock = HomeLock::acquire(nats_dir);
  if (!lock) return std::unexpected(lock.error());
  auto revocations = load_revocations(nats_dir);
  if (!revocations) return std::unexpected(revocations.error());
  for (const auto& key : request.user_public_keys) {
    auto role = role_of_public_key(key);
    if (!role || *role != KeyRole::kUser) return failf("'{}' is not a user public key", key);
  }
  natsConnection* nc = nullptr;
  struct Closer {
    natsConnection*& nc;
    ~Closer() {
      if (nc != nullptr) natsConnection_Destroy(nc);
    }
  } closer{nc};
  // A broker that cannot be reached must not lose the revocation: it is still recorded (and
  // applied to a local single server) below, and the error returned after that.
  std::optional<Error> broker_error;
  if (!request.nats_url.empty()) {
    // The keys and the system user's credential (the JWTs are minted again below).
    auto id = load_identity(request.home);
    if (!id) return std::unexpected(id.error());
    auto connected = connect_with_creds(request.nats_url, id->sys_creds(), request.nats_tls);
    if (!connected) {
      broker_error = with_context(connected.error(), "connecting as the system user");
    } else {
      nc = *connected;
      if (auto s = merge_from_servers(nc, *id, request.nats_url, *revocations); !s) {
        broker_error = with_context(s.error(), "reading the servers' account JWT");
      }
    }
  }
  // Every new JWT must be newer than the last: a key revoked now gets a time past the version.
  const std::int64_t at =
      std::max(request.at_unix_seconds, account_claims_version(*revocations) + 1);
  for (const auto& key : request.user_public_keys) revocations->emplace(key, at);
  if (auto s = save_revocations(nats_dir, *revocations); !s) return std::unexpected(s.error());
  // Loading mints the account JWT with the revocations just saved.
  auto id = load_identity(request.home);
  if (!id) return std::unexpected(id.error());
  if (auto s = files::write_atomic(nats_dir / "account_rmm.jwt", id->rmm_account_jwt, 0600); !s) {
    return std::unexpected(s.error());
  }
  if (!request.server_config.empty()) {
    auto text = files::read_all(request.server_config);
    if (!text) return std::unexpected(text.error());
    auto updated = replace_preloaded_jwt(*text, id->rmm_account.public_key(), id->rmm_account_jwt);
    if (!updated) return std::unexpected(updated.error());
    if (auto s = files::write_atomic(request.server_config, *updated, 0600); !s) {
      return std::unexpected(s.error());
    }
  }
  if (request.server_pid > 0 && ::kill(request.server_pid, SIGHUP) != 0) {
    return failf("signalling nats-server (pid {}) to reload: {}", request.server_pid,
                 std::strerror(errno));
  }
  Result<RevokeReport> report = RevokeReport{};
  if (broker_error) {
    report = std::unexpected(*broker_error);
  } else if (nc != nullptr) {
    report = push(nc, *id, request.nats_url);
  }
  if (!report) {
    report.error().message +=
        " (the revocation is recorded in the home: rmm-admin push-account sends it once the "
        "broker answers)";
  }
  return report;
}

}  // namespace rmm::broker
