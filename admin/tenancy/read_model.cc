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
                          .fingerprint_hash = r[0][2].is_null() ? "" : r[0][2].as<std::string>(),
                          .revoked = !r[0][3].is_null()};
}

std::optional<CodeRow> code_row(const pqxx::result& r) {
  if (r.empty()) return std::nullopt;
  auto id = parse_id<EnrollmentCodeId>(r[0][0]);
  auto site = parse_id<SiteId>(r[0][1]);
  if (!id || !site) return std::nullopt;
  return CodeRow{.id = *id,
                 .site = *site,
                 .expires_at = r[0][2].as<std::int64_t>() * 1000,
                 .revoked = r[0][3].as<bool>()};
}

constexpr const char* kCodeColumns =
    "SELECT id::text, site_id::text, (extract(epoch FROM expires_at) * 1000000)::bigint, revoked "
    "FROM enrollment_codes ";
constexpr const char* kAgentColumns =
    "SELECT id::text, site_id::text, fingerprint_hash, revoked_at FROM agents ";

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
    return code_row(
        tx.exec_params(std::string(kCodeColumns) + "WHERE code_hash = $1", std::string(code_hash)));
  });
}

Result<std::optional<CodeRow>> TenancyReadModel::find_code(const EnrollmentCodeId& id) {
  return guarded("looking up enrollment code", [&]() -> Result<std::optional<CodeRow>> {
    pqxx::read_transaction tx(conn_);
    return code_row(tx.exec_params(std::string(kCodeColumns) + "WHERE id = $1::uuid", id.str()));
  });
}

Result<std::optional<AgentIdentityRow>> TenancyReadModel::find_agent(const AgentId& id) {
  return guarded("looking up agent", [&]() -> Result<std::optional<AgentIdentityRow>> {
    pqxx::read_transaction tx(conn_);
    return agent_row(tx.exec_params(std::string(kAgentColumns) + "WHERE id = $1::uuid", id.str()));
  });
}

Result<std::optional<AgentIdentityRow>> TenancyReadModel::find_agent_by_fingerprint(
    std::string_view hash) {
  return guarded(
      "looking up agent by fingerprint", [&]() -> Result<std::optional<AgentIdentityRow>> {
        pqxx::read_transaction tx(conn_);
        return agent_row(tx.exec_params(std::string(kAgentColumns) +
                                            "WHERE fingerprint_hash = $1 AND revoked_at IS NULL "
                                            "ORDER BY enrolled_at DESC LIMIT 1",
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
