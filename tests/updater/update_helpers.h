// Shared pieces of the update tests: an agent state dir with a minted credential, signing and
// publishing releases with the test keys (tests/updater/keys), reading the spool, and reading an
// agent's events of one type back from RMM_EVENTS.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/update_events.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/temp_dir.h"
#include "tools/release/publish.h"
#include "updater/release/manifest.h"
#include "updater/release/signing.h"

namespace rmm::test {

inline const std::string kBinDir = RMM_BIN_DIR;
inline const std::filesystem::path kKeysDir =
    std::filesystem::path(RMM_SOURCE_DIR) / "tests/updater/keys";

release::SigningKey test_key(int n);  // 1 or 2: trusted by rmm-updater-testkeys

// `dir`/agent with agent_id and agent.creds, as enrollment leaves it.
std::filesystem::path make_agent_state(const std::filesystem::path& dir,
                                       const NatsServerFixture& nats, const AgentId& id);

struct TestRelease {
  release::Manifest manifest;
  std::string json;
  std::string signature;
  std::vector<std::uint8_t> artifact;
};

// A release of `artifact` for this machine (platform, arch) signed by `key`.
TestRelease make_release(std::vector<std::uint8_t> artifact, const std::string& version,
                         const release::SigningKey& key, std::uint64_t chunk_size = 4096);
void resign(TestRelease& r, const release::SigningKey& key);  // after changing r.manifest

void publish(const NatsServerFixture& nats, const TestRelease& r,
             const release_tool::PublishOptions& options = {});

std::vector<std::uint8_t> read_binary(const std::filesystem::path& path);

// The UpdateProgress events spooled in `state`, oldest first.
std::vector<codec::UpdateProgressInfo> spooled_progress(const std::filesystem::path& state);
std::vector<codec::WatchdogAlertInfo> spooled_alerts(const std::filesystem::path& state);

// Payloads of `agent`'s events of `type` in RMM_EVENTS (verified envelopes, raw bytes), read
// until `done` holds or `limit` passes.
std::vector<std::vector<std::uint8_t>> stored_events(
    const NatsServerFixture& nats, const AgentId& agent, schema::Payload type,
    std::chrono::seconds limit,
    const std::function<bool(const std::vector<std::vector<std::uint8_t>>&)>& done);

// Sends an update_agent command to `agent` through RMM_COMMANDS.
CommandId send_update(const NatsServerFixture& nats, const AgentId& agent,
                      const std::string& version, bool allow_downgrade = false);

}  // namespace rmm::test
