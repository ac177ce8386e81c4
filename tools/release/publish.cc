#include "tools/release/publish.h"

#include <fmt/format.h>

#include "updater/release/checks.h"
#include "updater/release/subjects.h"

namespace rmm::release_tool {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

Result<Published> publish_release(nats::JetStream& js, const release::Manifest& m,
                                  std::string_view manifest_json, std::string_view signature,
                                  std::span<const std::uint8_t> artifact,
                                  const PublishOptions& options) {
  Published out;
  out.prefix = options.prefix_override.empty()
                   ? release::release_prefix(m.version, m.platform, m.arch)
                   : options.prefix_override;
  for (std::uint64_t i = 0; i * m.chunk_size < artifact.size(); ++i) {
    if (options.skip_chunk == i) continue;
    auto chunk =
        artifact.subspan(i * m.chunk_size,
                         std::min<std::uint64_t>(m.chunk_size, artifact.size() - i * m.chunk_size));
    auto msg_id = fmt::format("{}:chunk:{}:{}", out.prefix, i, release::sha256_hex(chunk));
    auto ack =
        js.publish(release::chunk_subject(out.prefix, i), chunk, msg_id, options.ack_timeout);
    if (!ack) return std::unexpected(with_context(ack.error(), fmt::format("chunk {}", i)));
    ++out.chunks;
  }
  std::string body = release::manifest_message(manifest_json, signature);
  auto msg_id = fmt::format("{}:manifest:{}", out.prefix, release::sha256_hex(bytes_of(body)));
  auto ack = js.publish(release::manifest_subject(out.prefix), bytes_of(body), msg_id,
                        options.ack_timeout);
  if (!ack) return std::unexpected(with_context(ack.error(), "manifest"));
  out.manifest_seq = ack->seq;
  return out;
}

}  // namespace rmm::release_tool
