// The enrollment request/reply on `rmm.enroll.request` (docs/enrollment.md), as JSON.
//
//   request: {"version":1, "code":"K7QXM-...", "public_key":"U...", "hostname":"web-01",
//             "agent_id":"0190...", (optional: the id this state dir had before)
//             "fingerprint":{"machine_id":"...", "dmi_serial":"...", "macs":["52:54:00:..."]}}
//   reply:   {"ok":true, "agent_id":"...", "site_id":"...", "jwt":"...", "reenrolled":false,
//             "command_keys":["<hex>", ...]}
//            {"ok":false, "error":"code_expired", "message":"the enrollment code has expired"}
//
// The request comes from anyone holding the shared enrollment credential, so it is untrusted:
// parse_enroll_request checks every type and length explicitly and never throws.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.h"
#include "common/result.h"

namespace rmm::api::enroll {

inline constexpr std::size_t kMaxRequestBytes = 16 * 1024;
inline constexpr std::size_t kMaxFieldChars = 255;
inline constexpr std::size_t kMaxMacs = 64;

struct Fingerprint {
  std::string machine_id;
  std::string dmi_serial;
  std::vector<std::string> macs;  // lower-case "xx:xx:...", sorted, unique
};

struct EnrollRequest {
  std::string code;        // as typed; normalised by the responder
  std::string public_key;  // checked: an NKey user public key
  std::string hostname;
  std::optional<AgentId> previous_agent;
  Fingerprint fingerprint;
};

// Error codes a client may branch on.
enum class Refusal { kBadRequest, kUnknownCode, kCodeRevoked, kCodeExpired, kUnavailable };
std::string_view refusal_token(Refusal r);

Result<EnrollRequest> parse_enroll_request(std::span<const std::uint8_t> bytes);

// Lower-case hex SHA-256 of the canonical form (fields in a fixed order, MACs sorted): the only
// form of the fingerprint that is stored or published.
std::string fingerprint_hash(const Fingerprint& f);

// `command_keys`: hex public keys of the command keys to trust, as "command_keys" (omitted when
// empty).
std::string accepted_reply(const AgentId& agent, std::string_view site_id, std::string_view jwt,
                           bool reenrolled, std::span<const std::string> command_keys = {});
std::string refused_reply(Refusal why, std::string_view message);

}  // namespace rmm::api::enroll
