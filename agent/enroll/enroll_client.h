// `rmm-agent enroll`: turns a site enrollment code into this agent's identity.
//
// The agent makes its own NKey user key pair (Ed25519, libsodium), sends the public key, its
// machine facts and the code by request/reply on `rmm.enroll.request` (connected with the shared
// enrollment credential, inbox prefix `_INBOX_ENROLL`), and receives a user JWT whose subject is
// its public key, sealed to that key (only this agent can read it). The seed never leaves the
// state directory. docs/enrollment.md has the protocol (version 2).
//
// Enrolling again keeps the agent's id only with a proof of possession: the current key (the seed
// in agent.creds) signs the agent id, the new public key, the code and the time. Without a
// readable agent.creds the machine gets a new id.
//
// State directory (0700; files 0600): agent_id, agent.creds (the JWT + the agent's own seed),
// command_keys (the command keys the reply names: agent/commands/command_keys.h), and ca.pem
// (0644), the CA the enrollment connected with (`--ca-file`), which the agent then pins.
// When the identity changes (first enrollment after another identity, or a clone got a new id),
// the old sequence file is removed and the old outbox is moved aside, because both belong to the
// old id.
//
// Concurrency: run it while the agent is stopped (the outbox is the running agent's).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "agent/enroll/fingerprint.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"

namespace rmm::agent::enroll {

struct EnrollOptions {
  std::string server;  // NATS URL
  std::string code;    // the site's enrollment code
  std::filesystem::path state_dir;
  std::filesystem::path enroll_creds;  // the shared enrollment credential
  // The CA of the server to pin (TLS required), copied to <state_dir>/ca.pem once enrolled.
  // Empty: <state_dir>/ca.pem of an earlier enrollment when present, else plaintext (loopback
  // URLs only).
  std::filesystem::path ca_file;
  std::string tls_server_name;  // the name in the server's certificate; empty: the URL's host
  std::chrono::milliseconds timeout{30'000};
  const Clock* clock = nullptr;  // the proof's time; null: the real clock
};

struct EnrollOutcome {
  AgentId agent;
  std::string site_id;
  bool reenrolled = false;  // an existing identity was kept
  bool identity_changed = false;
};

// Error codes: kInvalidInput when the server refused (the message says why: unknown, revoked or
// expired code, another client's agent, a clock too far off, ...), kTimeout when no responder
// answered, kGeneric otherwise.
Result<EnrollOutcome> enroll(const EnrollOptions& options, const MachineFacts& facts);

}  // namespace rmm::agent::enroll
