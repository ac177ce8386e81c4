#include "updater/release/checks.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "updater/release/version.h"

namespace rmm::release {
namespace {

namespace json = boost::json;

std::unexpected<Refusal> refuse(std::string reason, std::string detail) {
  return std::unexpected(Refusal{std::move(reason), std::move(detail)});
}

}  // namespace

std::string manifest_message(std::string_view manifest_json, std::string_view signature) {
  json::object o;
  o["manifest"] = manifest_json;
  o["signature"] = signature;
  return json::serialize(o);
}

Result<SignedManifest> parse_manifest_message(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return fail("manifest message: not a JSON object");
  const auto* m = v.as_object().if_contains("manifest");
  const auto* s = v.as_object().if_contains("signature");
  if (m == nullptr || s == nullptr || !m->is_string() || !s->is_string()) {
    return fail("manifest message: needs 'manifest' and 'signature' strings");
  }
  return SignedManifest{std::string(m->as_string()), std::string(s->as_string())};
}

std::expected<Manifest, Refusal> check_manifest(std::span<const TrustedKey> trusted,
                                                const SignedManifest& sm,
                                                const Expectation& expect) {
  // The signature first: nothing in an unsigned manifest is looked at.
  if (auto ok = verify(trusted, sm.signature, sm.manifest_json); !ok) {
    return refuse(std::string(problem_reason(ok.error())),
                  ok.error() == SignatureProblem::kUnknownKey
                      ? "the manifest is signed by a key this updater does not trust"
                      : "the manifest's signature does not verify");
  }
  auto m = parse_manifest(sm.manifest_json);
  if (!m) return refuse("bad_manifest", m.error().message);
  if (!expect.version.empty() && m->version != expect.version) {
    return refuse("wrong_version",
                  fmt::format("asked for {}, the manifest is {}", expect.version, m->version));
  }
  if (m->platform != expect.platform) {
    return refuse("wrong_platform",
                  fmt::format("release for {}, this machine is {}", m->platform, expect.platform));
  }
  if (m->arch != expect.arch) {
    return refuse("wrong_arch",
                  fmt::format("release for {}, this machine is {}", m->arch, expect.arch));
  }
  if (!expect.sha256.empty() && expect.sha256 != m->sha256) {
    return refuse("hash_mismatch", "the command's sha256 differs from the signed manifest's");
  }
  if (!expect.current_version.empty()) {
    int order = compare_versions(m->version, expect.current_version);
    if (order == 0) return refuse("already_current", "this version is already running");
    if (order < 0 && !expect.allow_downgrade) {
      return refuse("downgrade", fmt::format("{} is older than the running {}", m->version,
                                             expect.current_version));
    }
    if (!m->min_from_version.empty() &&
        compare_versions(expect.current_version, m->min_from_version) < 0) {
      return refuse("too_old", fmt::format("{} updates only from {} or later", m->version,
                                           m->min_from_version));
    }
  }
  return std::move(*m);
}

std::expected<void, Refusal> check_chunk(const Manifest& m, std::uint64_t index,
                                         std::span<const std::uint8_t> chunk) {
  if (index >= m.chunk_sha256.size()) return refuse("bad_manifest", "chunk index out of range");
  std::uint64_t expected = std::min(m.chunk_size, m.size - index * m.chunk_size);
  if (chunk.size() < expected) {
    return refuse("truncated",
                  fmt::format("chunk {} has {} of {} bytes", index, chunk.size(), expected));
  }
  if (chunk.size() != expected || sha256_hex(chunk) != m.chunk_sha256[index]) {
    return refuse("hash_mismatch", fmt::format("chunk {} does not match its hash", index));
  }
  return {};
}

std::expected<void, Refusal> check_artifact(const Manifest& m,
                                            std::span<const std::uint8_t> artifact) {
  if (artifact.size() < m.size) {
    return refuse("truncated", fmt::format("{} of {} bytes", artifact.size(), m.size));
  }
  if (artifact.size() != m.size || sha256_hex(artifact) != m.sha256) {
    return refuse("hash_mismatch", "the artifact does not match the manifest's sha256");
  }
  return {};
}

}  // namespace rmm::release
