// The cryptography of the enrollment protocol (docs/enrollment.md), shared by the agent and the
// responder in rmm-api: the proof of possession an enrolled agent signs to keep its identity, and
// the sealed reply only the enrolling agent can open.
//
// Proof: the agent's CURRENT key (the subject of the credential it holds) signs
// reenroll_proof_message(); binding the new public key makes a replayed proof worthless to anyone
// but the holder of the new seed, binding the code keeps it from moving the agent with another
// code, and the time bounds how long it is worth anything at all.
//
// Sealed reply: crypto_box_seal to the Curve25519 form of the agent's new Ed25519 (NKey user)
// public key; the agent opens it with its new seed converted likewise. Everyone holding the shared
// enrollment credential may subscribe to every enrollment inbox; only the requester can read.
//
// Concurrency: free functions without shared state.
// Limitations: a sealed box is anonymous (it does not say who sealed it); the reply is trusted
// because only the services credential may publish to enrollment inboxes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "admin/nkeys.h"
#include "common/ids.h"
#include "common/result.h"

namespace rmm::broker {

// The bytes the agent's current key signs: a domain tag, then one field per line.
std::string reenroll_proof_message(const AgentId& agent, std::string_view new_public_key,
                                   std::string_view code, std::int64_t issued_at_seconds);

// `plaintext` sealed to the NKey user public key `recipient` ("U..."): raw bytes.
// kInvalidInput when the key is not a user key or has no Curve25519 form.
Result<std::string> seal_to_user_key(std::string_view recipient, std::string_view plaintext);
// Opens what seal_to_user_key sealed to `key`'s public key; kInvalidInput when it was not (or
// the box was altered).
Result<std::string> open_sealed(const KeyPair& key, std::string_view sealed);

}  // namespace rmm::broker
