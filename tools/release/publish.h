// Publishing a signed release into the RMM_RELEASES stream (updater/release/subjects.h): every
// chunk first, the manifest message last, so an agent that sees the manifest finds every chunk.
// Nats-Msg-Ids include each message's hash, so re-publishing the same release is deduplicated and
// a corrected one is not.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/nats_jetstream.h"
#include "updater/release/manifest.h"

namespace rmm::release_tool {

struct PublishOptions {
  // Tests only: publish under another release's subjects, or leave one chunk out.
  std::string prefix_override;
  std::optional<std::uint64_t> skip_chunk;
  std::chrono::milliseconds ack_timeout{5000};
};

struct Published {
  std::string prefix;
  std::uint64_t chunks = 0;
  StreamSeq manifest_seq;
};

Result<Published> publish_release(nats::JetStream& js, const release::Manifest& manifest,
                                  std::string_view manifest_json, std::string_view signature,
                                  std::span<const std::uint8_t> artifact,
                                  const PublishOptions& options = {});

}  // namespace rmm::release_tool
