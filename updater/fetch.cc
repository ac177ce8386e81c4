#include "updater/fetch.h"

#include <fmt/format.h>
#include <nats/nats.h>

#include "updater/release/subjects.h"

namespace rmm::updater {
namespace {

std::unexpected<FetchProblem> failure(std::string reason, std::string detail) {
  return std::unexpected(FetchProblem{false, {std::move(reason), std::move(detail)}});
}

std::unexpected<FetchProblem> refused(release::Refusal r) {
  return std::unexpected(FetchProblem{true, std::move(r)});
}

}  // namespace

std::expected<std::vector<std::uint8_t>, FetchProblem> ReleaseSource::last_message(
    const std::string& subject) {
  // The direct get API: "$JS.API.DIRECT.GET.<stream>.<subject>" with an empty body answers with
  // the last message on that subject, or a 404 status when there is none.
  std::string api =
      fmt::format("$JS.{}API.DIRECT.GET.{}.{}", js_domain_.empty() ? "" : js_domain_ + ".",
                  release::kReleaseStream, subject);
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_Request(&reply, conn_.raw(), api.c_str(), nullptr, 0,
                                        static_cast<int64_t>(timeout_.count()));
  if (s != NATS_OK) {
    auto e = nats::to_error(s, "direct get " + subject);
    return failure(s == NATS_NO_RESPONDERS ? "not_found" : "fetch_failed", e.message);
  }
  nats::Message msg(reply);
  if (natsMsg_IsNoResponders(reply)) return failure("fetch_failed", "no responders for " + api);
  if (auto status = msg.header("Status"); status) {
    if (*status == "404") return failure("not_found", subject + " is not in the stream");
    return failure("fetch_failed", fmt::format("direct get {}: status {}", subject, *status));
  }
  auto data = msg.data();
  return std::vector<std::uint8_t>(data.begin(), data.end());
}

std::expected<release::SignedManifest, FetchProblem> ReleaseSource::manifest(
    const std::string& prefix) {
  auto body = last_message(release::manifest_subject(prefix));
  if (!body) return std::unexpected(body.error());
  auto parsed = release::parse_manifest_message(
      std::string_view(reinterpret_cast<const char*>(body->data()), body->size()));
  if (!parsed) return refused({"bad_signature", parsed.error().message});
  return std::move(*parsed);
}

std::expected<std::vector<std::uint8_t>, FetchProblem> ReleaseSource::artifact(
    const std::string& prefix, const release::Manifest& m) {
  std::vector<std::uint8_t> out;
  out.reserve(m.size);
  for (std::uint64_t i = 0; i < m.chunk_sha256.size(); ++i) {
    auto chunk = last_message(release::chunk_subject(prefix, i));
    if (!chunk) {
      // A chunk the manifest promises but the stream lacks: the release is incomplete.
      if (chunk.error().refusal.reason == "not_found") {
        return refused(
            {"truncated", fmt::format("chunk {} of {} is missing", i, m.chunk_sha256.size())});
      }
      return std::unexpected(chunk.error());
    }
    if (auto ok = release::check_chunk(m, i, *chunk); !ok) return refused(ok.error());
    out.insert(out.end(), chunk->begin(), chunk->end());
  }
  if (auto ok = release::check_artifact(m, out); !ok) return refused(ok.error());
  return out;
}

}  // namespace rmm::updater
