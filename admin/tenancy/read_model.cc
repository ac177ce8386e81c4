#include "admin/tenancy/read_model.h"

#include <pqxx/result>
#include <pqxx/transaction>
#include <thread>

namespace rmm::tenancy {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(50);

template <class F>
auto guarded(std::string_view what, F f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return failf("{}: {}", what, e.what());
  }
}

template <class T>
std::optional<T> parse_id(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  auto id = T::parse(f.as<std::string>());
  if (!id) return std::nullopt;
  return *id;
}

std::optional<AgentIdentityRow> agent_row(const pqxx::result& r) {
  if (r.empty()) return std::nullopt;
  auto id = parse_id<AgentId>(r[0][0]);
  if (!id) return std::nullopt;
  return AgentIdentityRow{.id = *id,
                          .site = parse_id<SiteId>(r[0][1]),
                          .client = parse_id<ClientId>(r[0][5]),
                          .fingerprint_hash = r[0][2].is_null() ? "" : r[0][2].as<std::string>(),
                          .public_key = r[0][4].is_null() ? "" : r[0][4].as<std::string>(),
                          .revoked = !r[0][3].is_null()};
}

std::optional<CodeRow> code_row(const pqxx::result& r) {
  if (r.empty()) return std::nullopt;
  auto id = parse_id<EnrollmentCodeId>(r[0][0]);
  auto site = parse_id<SiteId>(r[0][1]);
  if (!id || !site) return std::nullopt;
  return CodeRow{.id = *id,
                 .site = *site,
                 .client = parse_id<ClientId>(r[0][4]),
                 .expires_at = r[0][2].as<std::int64_t>() * 1000,
                 .revoked = r[0][3].as<bool>()};
}

constexpr const char* kCodeColumns =
    "SELECT c.id::text, c.site_id::text, (extract(epoch FROM c.expires_at) * 1000000)::bigint, "
    "c.revoked, s.client_id::text FROM enrollment_codes c LEFT JOIN sites s ON s.id = c.site_id ";
constexpr const char* kAgentColumns =
    "SELECT a.id::text, a.site_id::text, a.fingerprint_hash, a.revoked_at, a.public_key, "
    "s.client_id::text FROM agents a LEFT JOIN sites s ON s.id = a.site_id ";

}  // namespace

Result<bool> TenancyReadModel::client_exists(const ClientId& id) {
  return guarded("looking up client", [&]() -> Result<bool> {
    pqxx::read_transaction tx(conn_);
    return !tx.exec_params("SELECT 1 FROM clients WHERE id = $1::uuid", id.str()).empty();
  });
}

Result<bool> TenancyReadModel::site_exists(const SiteId& id) {
  return guarded("looking up site", [&]() -> Result<bool> {
    pqxx::read_transaction tx(conn_);
    return !tx.exec_params("SELECT 1 FROM sites WHERE id = $1::uuid", id.str()).empty();
  });
}

Result<std::optional<CodeRow>> TenancyReadModel::find_code_by_hash(std::string_view code_hash) {
  return guarded("looking up enrollment code", [&]() -> Result<std::optional<CodeRow>> {
    pqxx::read_transaction tx(conn_);
    return code_row(tx.exec_params(std::string(kCodeColumns) + "WHERE c.code_hash = $1",
                                   std::string(code_hash)));
  });
}

Result<std::optional<CodeRow>> TenancyReadModel::find_code(const EnrollmentCodeId& id) {
  return guarded("looking up enrollment code", [&]() -> Result<std::optional<CodeRow>> {
    pqxx::read_transaction tx(conn_);
    return code_row(tx.exec_params(std::string(kCodeColumns) + "WHERE c.id = $1::uuid", id.str()));
  });
}

Result<std::optional<AgentIdentityRow>> TenancyReadModel::find_agent(const AgentId& id) {
  return guarded("looking up agent", [&]() -> Result<std::optional<AgentIdentityRow>> {
    pqxx::read_transaction tx(conn_);
    return agent_row(
        tx.exec_params(std::string(kAgentColumns) + "WHERE a.id = $1::uuid", id.str()));
  });
}

Result<std::optional<AgentIdentityRow>> TenancyReadModel::find_agent_by_fingerprint(
    std::string_view hash) {
  return guarded("looking up agent by fingerprint",
                 [&]() -> Result<std::optional<AgentIdentityRow>> {
                   pqxx::read_transaction tx(conn_);
                   return agent_row(tx.exec_params(std::string(kAgentColumns) +
                                                       "WHERE a.fingerprint_hash = $1 AND "
                                                       "a.revoked_at IS NULL "
                                                       "ORDER BY a.enrolled_at DESC LIMIT 1",
                                                   std::string(hash)));
                 });
}

Result<std::vector<std::string>> TenancyReadModel::agent_public_keys(const AgentId& id) {
  return guarded("listing agent keys", [&]() -> Result<std::vector<std::string>> {
    pqxx::read_transaction tx(conn_);
    std::vector<std::string> keys;
    for (const auto& row : tx.exec_params(
             "SELECT public_key FROM agent_keys WHERE agent_id = $1::uuid ORDER BY public_key",
             id.str())) {
      keys.push_back(row[0].as<std::string>());
    }
    return keys;
  });
}

Result<bool> TenancyReadModel::public_key_enrolled(std::string_view public_key) {
  return guarded("looking up agent key", [&]() -> Result<bool> {
    pqxx::read_transaction tx(conn_);
    return !tx.exec_params("SELECT 1 FROM agent_keys WHERE public_key = $1",
                           std::string(public_key))
                .empty();
  });
}

Result<StreamSeq> TenancyReadModel::checkpoint() {
  return guarded("reading the projection checkpoint", [&]() -> Result<StreamSeq> {
    pqxx::read_transaction tx(conn_);
    auto r = tx.exec("SELECT stream_seq FROM projection_checkpoints WHERE projection = 'core'");
    if (r.empty()) return StreamSeq{0};
    return StreamSeq{r[0][0].as<std::uint64_t>()};
  });
}

Result<bool> TenancyReadModel::wait_for_projection(StreamSeq seq,
                                                   std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto cp = checkpoint();
    if (!cp) return std::unexpected(cp.error());
    if (*cp >= seq) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace rmm::tenancy
