// Reads a release from the RMM_RELEASES stream with JetStream direct get (last message by
// subject): the manifest message, then each chunk, each checked against the signed manifest as it
// arrives. Direct get is the only JetStream API the agent's credential allows (read-only, this
// stream only), and the reply comes back on the agent's private inbox.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "common/nats_connection.h"
#include "updater/release/checks.h"

namespace rmm::updater {

// A refusal (the release is bad) or a failure to fetch (network, missing): the first is final,
// the second worth reporting as Failed.
struct FetchProblem {
  bool refused = false;
  release::Refusal refusal;  // reason/detail; for a failure reason is "fetch_failed"/"not_found"
};

class ReleaseSource {
 public:
  // `js_domain`: the JetStream domain holding RMM_RELEASES ("" for the server connected to; the
  // hub's behind a site's leaf node).
  ReleaseSource(nats::Connection& conn, std::chrono::milliseconds timeout,
                std::string js_domain = {})
      : conn_(conn), timeout_(timeout), js_domain_(std::move(js_domain)) {}

  std::expected<release::SignedManifest, FetchProblem> manifest(const std::string& prefix);
  // Every chunk, checked one by one, then the whole artifact.
  std::expected<std::vector<std::uint8_t>, FetchProblem> artifact(const std::string& prefix,
                                                                  const release::Manifest& m);

 private:
  // The last message on `subject`: its data, or not found / failure.
  std::expected<std::vector<std::uint8_t>, FetchProblem> last_message(const std::string& subject);

  nats::Connection& conn_;
  std::chrono::milliseconds timeout_;
  std::string js_domain_;
};

}  // namespace rmm::updater
