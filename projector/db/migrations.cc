#include "projector/db/migrations.h"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>
#include <sstream>

#include "common/log.h"

namespace rmm::projector::db {
namespace {

namespace fs = std::filesystem;

// Arbitrary but fixed: every GuruRMM migrator takes this session advisory lock.
constexpr std::int64_t kMigrationLockKey = 0x524d4d5f4d494752;  // "RMM_MIGR"

// "0001_initial.sql" -> {1, "initial"}; nullopt if the name does not follow the pattern.
std::optional<std::pair<int, std::string>> parse_filename(std::string_view filename) {
  constexpr std::string_view kExt = ".sql";
  if (filename.size() < 4 + 1 + 1 + kExt.size() || !filename.ends_with(kExt)) return std::nullopt;
  int version = 0;
  for (int i = 0; i < 4; ++i) {
    char c = filename[i];
    if (c < '0' || c > '9') return std::nullopt;
    version = version * 10 + (c - '0');
  }
  if (filename[4] != '_' || version == 0) return std::nullopt;
  std::string_view name = filename.substr(5, filename.size() - 5 - kExt.size());
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return std::nullopt;
  }
  return std::pair{version, std::string(name)};
}

// Releases the advisory lock on every exit path; closing the connection would release it too.
class AdvisoryLock {
 public:
  explicit AdvisoryLock(pqxx::connection& conn) : conn_(conn) {
    pqxx::nontransaction tx(conn_);
    tx.exec_params("SELECT pg_advisory_lock($1)", kMigrationLockKey);
  }
  ~AdvisoryLock() {
    try {
      pqxx::nontransaction tx(conn_);
      tx.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
    } catch (const std::exception&) {
      // The connection is gone, and with it the lock.
    }
  }
  AdvisoryLock(const AdvisoryLock&) = delete;
  AdvisoryLock& operator=(const AdvisoryLock&) = delete;

 private:
  pqxx::connection& conn_;
};

Result<MigrationReport> apply_locked(pqxx::connection& conn,
                                     const std::vector<Migration>& migrations,
                                     const fs::path& dir) {
  {
    pqxx::work tx(conn);
    tx.exec0(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    tx.commit();
  }
  std::map<int, std::pair<std::string, std::string>> applied;  // version -> (name, checksum)
  {
    pqxx::work tx(conn);
    for (const auto& row : tx.exec("SELECT version, name, checksum FROM schema_migrations")) {
      applied[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
    }
  }
  MigrationReport report;
  for (const auto& [version, entry] : applied) {
    bool present = std::any_of(migrations.begin(), migrations.end(),
                               [v = version](const Migration& m) { return m.version == v; });
    if (!present) {
      return failf("migration {:04d}_{} is applied in the database but missing from {}", version,
                   entry.first, dir.string());
    }
  }
  for (const auto& m : migrations) {
    if (auto it = applied.find(m.version); it != applied.end()) {
      if (it->second.second != m.checksum) {
        return failf(
            "migration {} was changed after it was applied: applied checksum {}, file checksum {} "
            "(never edit an applied migration; add a new one)",
            (dir / m.filename).string(), it->second.second, m.checksum);
      }
      ++report.already_applied;
      continue;
    }
    pqxx::work tx(conn);
    try {
      tx.exec0(m.sql);
    } catch (const pqxx::sql_error& e) {
      return failf("migration {} failed: {}", (dir / m.filename).string(), e.what());
    }
    tx.exec_params0("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    m.version, m.name, m.checksum);
    tx.commit();
    log::info("migration.applied", {{"version", m.version}, {"name", m.name}});
    ++report.applied;
  }
  return report;
}

}  // namespace

std::string normalise_line_endings(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string migration_checksum(std::string_view text) {
  std::string normalised = normalise_line_endings(text);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(normalised.data()),
                     normalised.size());
  std::string hex;
  for (unsigned char b : digest) hex += fmt::format("{:02x}", b);
  return hex;
}

Result<std::vector<Migration>> load_migrations(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return fail(Error::Code::kNotFound,
                fmt::format("migrations directory {} does not exist", dir.string()));
  }
  std::vector<Migration> out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    std::string filename = entry.path().filename().string();
    if (!filename.ends_with(".sql")) continue;
    auto parsed = parse_filename(filename);
    if (!parsed) {
      return failf("migration file {} is not named NNNN_name.sql ([a-z0-9_] name, NNNN > 0)",
                   entry.path().string());
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) return failf("cannot read {}", entry.path().string());
    Migration m{.version = parsed->first,
                .name = parsed->second,
                .filename = filename,
                .sql = ss.str(),
                .checksum = ""};
    m.checksum = migration_checksum(m.sql);
    out.push_back(std::move(m));
  }
  if (ec) return failf("listing {}: {}", dir.string(), ec.message());
  std::sort(out.begin(), out.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i].version == out[i - 1].version) {
      return failf("migrations {} and {} share version {}", out[i - 1].filename, out[i].filename,
                   out[i].version);
    }
  }
  return out;
}

Result<MigrationReport> apply_migrations(pqxx::connection& conn, const fs::path& dir) {
  auto migrations = load_migrations(dir);
  if (!migrations) return std::unexpected(migrations.error());
  try {
    AdvisoryLock lock(conn);
    return apply_locked(conn, *migrations, dir);
  } catch (const std::exception& e) {
    return failf("applying migrations from {}: {}", dir.string(), e.what());
  }
}

}  // namespace rmm::projector::db
