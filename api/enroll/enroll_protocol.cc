#include "api/enroll/enroll_protocol.h"

#include <algorithm>
#include <boost/json.hpp>

#include "admin/enroll_crypto.h"
#include "admin/identity.h"
#include "admin/jwt.h"
#include "admin/nkeys.h"
#include "admin/tenancy/enrollment_codes.h"

namespace rmm::api::enroll {
namespace {

namespace json = boost::json;

std::unexpected<Error> invalid(std::string_view why) {
  return fail(Error::Code::kInvalidInput, std::string(why));
}

// Printable ASCII or UTF-8 text without control characters, at most `max` bytes.
bool is_clean_text(std::string_view s, std::size_t max) {
  if (s.size() > max) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

Result<std::string> string_field(const json::object& o, std::string_view key, bool required,
                                 std::size_t max) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    if (required) return invalid(fmt::format("'{}' is required", key));
    return std::string();
  }
  if (!v->is_string()) return invalid(fmt::format("'{}' must be a string", key));
  std::string_view s = v->as_string();
  if (!is_clean_text(s, max)) {
    return invalid(fmt::format("'{}' must be at most {} bytes of text", key, max));
  }
  return std::string(s);
}

// "aa:bb:cc:dd:ee:ff" (6 to 20 octets), returned lower-case.
std::optional<std::string> normalise_mac(std::string_view s) {
  if (s.size() < 17 || s.size() > 59 || (s.size() + 1) % 3 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i % 3 == 2) {
      if (c != ':') return std::nullopt;
    } else if (c >= 'A' && c <= 'F') {
      c = static_cast<char>(c - 'A' + 'a');
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return std::nullopt;
    }
    out += c;
  }
  return out;
}

Result<Fingerprint> parse_fingerprint(const json::value* v) {
  if (v == nullptr || !v->is_object()) return invalid("'fingerprint' must be an object");
  const auto& o = v->as_object();
  Fingerprint f;
  auto machine_id = string_field(o, "machine_id", false, kMaxFieldChars);
  if (!machine_id) return std::unexpected(machine_id.error());
  auto serial = string_field(o, "dmi_serial", false, kMaxFieldChars);
  if (!serial) return std::unexpected(serial.error());
  f.machine_id = std::move(*machine_id);
  f.dmi_serial = std::move(*serial);
  if (const auto* macs = o.if_contains("macs"); macs != nullptr && !macs->is_null()) {
    if (!macs->is_array()) return invalid("'fingerprint.macs' must be an array");
    if (macs->as_array().size() > kMaxMacs) return invalid("'fingerprint.macs' is too long");
    for (const auto& m : macs->as_array()) {
      auto mac = m.is_string() ? normalise_mac(m.as_string()) : std::nullopt;
      if (!mac) return invalid("'fingerprint.macs' must hold MAC addresses");
      f.macs.push_back(std::move(*mac));
    }
  }
  std::sort(f.macs.begin(), f.macs.end());
  f.macs.erase(std::unique(f.macs.begin(), f.macs.end()), f.macs.end());
  if (f.machine_id.empty() && f.dmi_serial.empty() && f.macs.empty()) {
    return invalid("the fingerprint is empty (no machine id, serial or MAC address)");
  }
  return f;
}

Result<ReenrollProof> parse_proof(const json::value& v) {
  if (!v.is_object()) return invalid("'proof' must be an object");
  const auto& o = v.as_object();
  ReenrollProof p;
  auto key = string_field(o, "public_key", true, 64);
  if (!key) return std::unexpected(key.error());
  if (!broker::decode_public_key(*key, broker::KeyRole::kUser)) {
    return invalid("'proof.public_key' is not an NKey user public key");
  }
  p.public_key = std::move(*key);
  const auto* at = o.if_contains("issued_at");
  if (at == nullptr || !at->is_int64()) return invalid("'proof.issued_at' must be an integer");
  p.issued_at = at->as_int64();
  auto sig_text = string_field(o, "signature", true, 128);
  if (!sig_text) return std::unexpected(sig_text.error());
  auto sig = broker::b64url_decode(*sig_text);
  if (!sig || sig->size() != p.signature.size()) {
    return invalid("'proof.signature' must be 64 bytes in base64url");
  }
  std::copy(sig->begin(), sig->end(), p.signature.begin());
  return p;
}

bool is_inbox_token(std::string_view t) {
  if (t.empty()) return false;
  for (char c : t) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view refusal_token(Refusal r) {
  switch (r) {
    case Refusal::kBadRequest:
      return "bad_request";
    case Refusal::kUnsupportedVersion:
      return "unsupported_version";
    case Refusal::kOtherClient:
      return "other_client";
    case Refusal::kStaleProof:
      return "stale_proof";
    case Refusal::kUnknownCode:
      return "unknown_code";
    case Refusal::kCodeRevoked:
      return "code_revoked";
    case Refusal::kCodeExpired:
      return "code_expired";
    case Refusal::kUnavailable:
      return "unavailable";
  }
  return "unavailable";
}

Result<EnrollRequest> parse_enroll_request(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > kMaxRequestBytes) return invalid("request is too large");
  json::error_code ec;
  json::value doc =
      json::parse(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), ec);
  if (ec) return invalid("request is not JSON");
  if (!doc.is_object()) return invalid("request must be a JSON object");
  const auto& o = doc.as_object();
  // The version first, so that an older agent learns what is wrong whatever else it sent.
  const auto* version = o.if_contains("version");
  if (version == nullptr || !version->is_int64()) return invalid("'version' must be an integer");
  if (version->as_int64() != kProtocolVersion) {
    return fail(Error::Code::kNotSupported,
                fmt::format("enrollment protocol {} is not accepted: this server speaks protocol "
                            "{}; upgrade rmm-agent",
                            version->as_int64(), kProtocolVersion));
  }
  EnrollRequest r;
  auto code = string_field(o, "code", true, 64);
  if (!code) return std::unexpected(code.error());
  r.code = std::move(*code);
  auto key = string_field(o, "public_key", true, 64);
  if (!key) return std::unexpected(key.error());
  if (!broker::decode_public_key(*key, broker::KeyRole::kUser)) {
    return invalid("'public_key' is not an NKey user public key");
  }
  r.public_key = std::move(*key);
  auto hostname = string_field(o, "hostname", false, kMaxFieldChars);
  if (!hostname) return std::unexpected(hostname.error());
  r.hostname = std::move(*hostname);
  auto previous = string_field(o, "agent_id", false, 36);
  if (!previous) return std::unexpected(previous.error());
  if (!previous->empty()) {
    auto id = AgentId::parse(*previous);
    if (!id || id->is_nil()) return invalid("'agent_id' must be a UUID");
    r.previous_agent = *id;
  }
  if (const auto* proof = o.if_contains("proof"); proof != nullptr && !proof->is_null()) {
    if (!r.previous_agent) return invalid("'proof' needs 'agent_id'");
    auto p = parse_proof(*proof);
    if (!p) return std::unexpected(p.error());
    r.proof = std::move(*p);
  }
  auto fingerprint = parse_fingerprint(o.if_contains("fingerprint"));
  if (!fingerprint) return std::unexpected(fingerprint.error());
  r.fingerprint = std::move(*fingerprint);
  return r;
}

std::string fingerprint_hash(const Fingerprint& f) {
  std::string canonical = "gururmm-fingerprint-v1\nmachine_id=" + f.machine_id +
                          "\ndmi_serial=" + f.dmi_serial + "\nmacs=";
  for (std::size_t i = 0; i < f.macs.size(); ++i) {
    if (i > 0) canonical += ',';
    canonical += f.macs[i];
  }
  return tenancy::sha256_hex(canonical);
}

bool is_enroll_inbox(std::string_view subject) {
  constexpr std::size_t kMaxInboxChars = 128;
  std::string prefix = std::string(broker::kEnrollInboxPrefix) + ".";
  if (subject.size() > kMaxInboxChars || !subject.starts_with(prefix)) return false;
  std::string_view rest = subject.substr(prefix.size());
  auto dot = rest.find('.');
  if (dot == std::string_view::npos) return is_inbox_token(rest);
  return is_inbox_token(rest.substr(0, dot)) && is_inbox_token(rest.substr(dot + 1));
}

Result<std::string> accepted_reply(const AgentId& agent, std::string_view site_id,
                                   std::string_view jwt, bool reenrolled,
                                   std::string_view recipient,
                                   std::span<const std::string> command_keys,
                                   std::string_view moved_from_site_id) {
  json::object secret;
  secret["agent_id"] = agent.str();
  secret["site_id"] = site_id;
  secret["jwt"] = jwt;
  secret["reenrolled"] = reenrolled;
  if (!moved_from_site_id.empty()) secret["moved_from_site_id"] = moved_from_site_id;
  if (!command_keys.empty()) {
    json::array keys;
    for (const auto& k : command_keys) keys.emplace_back(k);
    secret["command_keys"] = std::move(keys);
  }
  auto sealed = broker::seal_to_user_key(recipient, json::serialize(secret));
  if (!sealed) return std::unexpected(sealed.error());
  json::object o;
  o["version"] = kProtocolVersion;
  o["ok"] = true;
  o["sealed"] = broker::b64url_encode(*sealed);
  return json::serialize(o);
}

std::string refused_reply(Refusal why, std::string_view message) {
  json::object o;
  o["version"] = kProtocolVersion;
  o["ok"] = false;
  o["error"] = refusal_token(why);
  o["message"] = message;
  return json::serialize(o);
}

}  // namespace rmm::api::enroll
