#include "updater/release/manifest.h"

#include <sodium.h>

#include <boost/json.hpp>

#include "common/platform/system.h"
#include "updater/release/subjects.h"

namespace rmm::release {
namespace {

namespace json = boost::json;

Result<std::string> string_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return failf("manifest: '{}' must be a string", key);
  return std::string(v->as_string());
}

Result<std::uint64_t> number_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v != nullptr && v->is_uint64()) return v->as_uint64();
  if (v != nullptr && v->is_int64() && v->as_int64() >= 0) {
    return static_cast<std::uint64_t>(v->as_int64());
  }
  return failf("manifest: '{}' must be a non-negative integer", key);
}

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string sha256_hex(std::span<const std::uint8_t> data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, data.data(), data.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return hex;
}

Manifest describe(std::span<const std::uint8_t> artifact, std::uint64_t chunk_size) {
  Manifest m;
  m.size = artifact.size();
  m.sha256 = sha256_hex(artifact);
  m.chunk_size = chunk_size;
  for (std::uint64_t off = 0; off < artifact.size(); off += chunk_size) {
    auto n = std::min<std::uint64_t>(chunk_size, artifact.size() - off);
    m.chunk_sha256.push_back(sha256_hex(artifact.subspan(off, n)));
  }
  return m;
}

std::string to_json(const Manifest& m) {
  json::array chunks;
  for (const auto& c : m.chunk_sha256) chunks.emplace_back(c);
  json::object o;
  o["format"] = 1;
  o["version"] = m.version;
  o["platform"] = m.platform;
  o["arch"] = m.arch;
  o["size"] = m.size;
  o["sha256"] = m.sha256;
  o["min_from_version"] = m.min_from_version;
  o["notes"] = m.notes;
  o["chunk_size"] = m.chunk_size;
  o["chunk_sha256"] = std::move(chunks);
  return json::serialize(o);
}

Result<Manifest> parse_manifest(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return fail("manifest: not a JSON object");
  const auto& o = v.as_object();
  auto format = number_of(o, "format");
  if (!format || *format != 1) return fail("manifest: unsupported format");
  Manifest m;
  auto version = string_of(o, "version");
  auto platform = string_of(o, "platform");
  auto arch = string_of(o, "arch");
  auto sha = string_of(o, "sha256");
  auto min_from = string_of(o, "min_from_version");
  auto notes = string_of(o, "notes");
  auto size = number_of(o, "size");
  auto chunk_size = number_of(o, "chunk_size");
  for (const auto* r : {&version, &platform, &arch, &sha, &min_from, &notes}) {
    if (!*r) return std::unexpected(r->error());
  }
  if (!size) return std::unexpected(size.error());
  if (!chunk_size) return std::unexpected(chunk_size.error());
  m.version = *version;
  m.platform = *platform;
  m.arch = *arch;
  m.sha256 = *sha;
  m.min_from_version = *min_from;
  m.notes = *notes;
  m.size = *size;
  m.chunk_size = *chunk_size;
  for (const auto* token : {&m.version, &m.platform, &m.arch}) {
    if (!valid_token(*token)) return failf("manifest: '{}' is not a valid name", *token);
  }
  if (!is_hex64(m.sha256)) return fail("manifest: sha256 must be 64 lower-case hex digits");
  if (m.size == 0 || m.size > kMaxArtifactSize) return fail("manifest: size out of range");
  if (m.chunk_size < 1024 || m.chunk_size > 8 * 1024 * 1024) {
    return fail("manifest: chunk_size out of range");
  }
  const auto* chunks = o.if_contains("chunk_sha256");
  if (chunks == nullptr || !chunks->is_array()) return fail("manifest: chunk_sha256 missing");
  for (const auto& c : chunks->as_array()) {
    if (!c.is_string() || !is_hex64(c.as_string())) return fail("manifest: bad chunk hash");
    m.chunk_sha256.emplace_back(c.as_string());
  }
  if (m.chunk_sha256.size() != (m.size + m.chunk_size - 1) / m.chunk_size) {
    return fail("manifest: chunk count does not match size");
  }
  return m;
}

std::string host_platform() {
  return RMM_HOST_PLATFORM;  // set by CMake from CMAKE_SYSTEM_NAME
}

std::string host_arch() {
  return rmm::platform::machine_arch();
}

}  // namespace rmm::release
