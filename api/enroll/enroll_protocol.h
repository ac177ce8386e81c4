// The enrollment request/reply on `rmm.enroll.request` (docs/enrollment.md), as JSON, protocol 2.
//
//   request: {"version":2, "code":"K7QXM-...", "public_key":"U...", "hostname":"web-01",
//             "agent_id":"0190...", (optional: the id this state dir had before)
//             "proof":{"public_key":"U...", "issued_at":1700000000, "signature":"<b64url>"},
//                                   (optional, with agent_id: signed by the agent's current key)
//             "fingerprint":{"machine_id":"...", "dmi_serial":"...", "macs":["52:54:00:..."]}}
//   reply:   {"version":2, "ok":true, "sealed":"<b64url of crypto_box_seal to public_key>"}
//              sealed: {"agent_id":"...", "site_id":"...", "jwt":"...", "reenrolled":false,
//                       "command_keys":["<hex>", ...]}
//            {"version":2, "ok":false, "error":"code_expired", "message":"the code has expired"}
//
// The request comes from anyone holding the shared enrollment credential, so it is untrusted:
// parse_enroll_request checks every type and length explicitly and never throws. Protocol 1
// (plain replies, no proof) is refused with `unsupported_version`.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "admin/nkeys.h"
#include "common/ids.h"
#include "common/result.h"

namespace rmm::api::enroll {

inline constexpr std::int64_t kProtocolVersion = 2;
inline constexpr std::size_t kMaxRequestBytes = 16 * 1024;
inline constexpr std::size_t kMaxFieldChars = 255;
inline constexpr std::size_t kMaxMacs = 64;

struct Fingerprint {
  std::string machine_id;
  std::string dmi_serial;
  std::vector<std::string> macs;  // lower-case "xx:xx:...", sorted, unique
};

// Proof of possession of the agent's current key (admin/enroll_crypto.h): a signature over
// broker::reenroll_proof_message(previous_agent, public_key, code, issued_at).
struct ReenrollProof {
  std::string public_key;      // checked: an NKey user public key; the key that signed
  std::int64_t issued_at = 0;  // Unix seconds
  broker::SignatureBytes signature{};
};

struct EnrollRequest {
  std::string code;        // as typed; normalised by the responder
  std::string public_key;  // checked: an NKey user public key
  std::string hostname;
  std::optional<AgentId> previous_agent;
  std::optional<ReenrollProof> proof;  // only together with previous_agent
  Fingerprint fingerprint;
};

// Error codes a client may branch on.
enum class Refusal {
  kBadRequest,
  kUnsupportedVersion,  // an older protocol: upgrade rmm-agent
  kUnknownCode,
  kCodeRevoked,
  kCodeExpired,
  kOtherClient,  // the agent proved its key, but the code belongs to another client
  kStaleProof,   // the proof's time is too far from the responder's clock
  kUnavailable
};
std::string_view refusal_token(Refusal r);

// kNotSupported for a request of another protocol version (answer kUnsupportedVersion),
// kInvalidInput for anything else that is wrong.
Result<EnrollRequest> parse_enroll_request(std::span<const std::uint8_t> bytes);

// True for reply subjects of the enrollment inbox form, `_INBOX_ENROLL.<token>[.<token>]` with
// tokens of letters, digits, '-' and '_' (what nats.c makes from the inbox prefix). The responder
// answers nothing else: a reply subject is chosen by the requester, and the services credential
// that answers could otherwise be made to write into any stream.
bool is_enroll_inbox(std::string_view reply_subject);

// Lower-case hex SHA-256 of the canonical form (fields in a fixed order, MACs sorted): the only
// form of the fingerprint that is stored or published.
std::string fingerprint_hash(const Fingerprint& f);

// The acceptance, its secrets sealed to `recipient` (the request's new public key) so that other
// holders of the enrollment credential, who may subscribe to every enrollment inbox, cannot read
// them. `command_keys`: hex public keys of the command keys to trust (docs/command-signing.md),
// sealed with the rest; omitted when empty. `moved_from_site_id`: the site a re-enrolled agent
// leaves for the code's (sealed too; omitted when empty).
Result<std::string> accepted_reply(const AgentId& agent, std::string_view site_id,
                                   std::string_view jwt, bool reenrolled,
                                   std::string_view recipient,
                                   std::span<const std::string> command_keys = {},
                                   std::string_view moved_from_site_id = {});
std::string refused_reply(Refusal why, std::string_view message);

}  // namespace rmm::api::enroll
