#include "agent/enroll/enroll_client.h"

#include <boost/json.hpp>
#include <system_error>

#include "admin/enroll_crypto.h"
#include "admin/files.h"
#include "admin/identity.h"
#include "admin/jwt.h"
#include "admin/nkeys.h"
#include "agent/commands/command_keys.h"
#include "common/agent_local.h"
#include "common/files.h"
#include "common/nats_connection.h"
#include "common/secure_dir.h"

namespace rmm::agent::enroll {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The protocol this client speaks (api/enroll/enroll_protocol.h).
constexpr std::int64_t kProtocolVersion = 2;

// The identity this state directory had, and its current key when agent.creds can be read.
struct Previous {
  AgentId id;
  std::optional<broker::KeyPair> key;
};

std::optional<Previous> previous_identity(const fs::path& state_dir) {
  auto text = files::read_all(state_dir / "agent_id");
  if (!text) return std::nullopt;
  auto id = AgentId::parse(trim(*text));
  if (!id) return std::nullopt;
  Previous p{*id, std::nullopt};
  if (auto creds = files::read_all(state_dir / "agent.creds")) {
    if (auto key = broker::key_from_creds(*creds)) p.key = std::move(*key);
  }
  return p;
}

std::string request_json(const EnrollOptions& o, const MachineFacts& f, std::string_view key,
                         const std::optional<Previous>& previous, std::int64_t now_seconds) {
  json::object fp;
  fp["machine_id"] = f.machine_id;
  fp["dmi_serial"] = f.dmi_serial;
  json::array macs;
  for (const auto& m : f.macs) macs.emplace_back(m);
  fp["macs"] = std::move(macs);
  json::object req;
  req["version"] = kProtocolVersion;
  req["code"] = o.code;
  req["public_key"] = key;
  req["hostname"] = f.hostname;
  if (previous) {
    req["agent_id"] = previous->id.str();
    if (previous->key) {
      // Proof of possession of the current key: what keeps the id (admin/enroll_crypto.h).
      auto sig = previous->key->sign(
          broker::reenroll_proof_message(previous->id, key, o.code, now_seconds));
      json::object proof;
      proof["public_key"] = previous->key->public_key();
      proof["issued_at"] = now_seconds;
      proof["signature"] = broker::b64url_encode(
          std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
      req["proof"] = std::move(proof);
    }
  }
  req["fingerprint"] = std::move(fp);
  return json::serialize(req);
}

Result<std::string> ask(const EnrollOptions& o, const std::string& body) {
  nats::ConnectOptions opts;
  opts.url = o.server;
  opts.creds_file = o.enroll_creds.string();
  opts.tls_ca_file = local::agent_nats_ca(o.state_dir, o.ca_file.string());
  opts.tls_server_name = o.tls_server_name;
  opts.name = "rmm-agent enroll";
  // The enrollment credential may subscribe only under this prefix.
  opts.inbox_prefix = std::string(broker::kEnrollInboxPrefix);
  opts.max_reconnect = 0;
  opts.timeout = std::min<std::chrono::milliseconds>(o.timeout, std::chrono::seconds(10));
  auto conn = nats::Connection::connect(opts);
  if (!conn) return std::unexpected(conn.error());
  natsMsg* reply = nullptr;
  natsStatus s =
      natsConnection_Request(&reply, (*conn)->raw(), std::string(broker::kEnrollSubject).c_str(),
                             body.data(), static_cast<int>(body.size()), o.timeout.count());
  if (s == NATS_NO_RESPONDERS || s == NATS_TIMEOUT) {
    return fail(Error::Code::kTimeout,
                fmt::format("no enrollment responder answered within {} ms (is rmm-api running "
                            "with --enroll-home?)",
                            o.timeout.count()));
  }
  if (s != NATS_OK) return std::unexpected(nats::to_error(s, "enrollment request"));
  nats::Message msg(reply);
  auto data = msg.data();
  return std::string(reinterpret_cast<const char*>(data.data()), data.size());
}

struct Accepted {
  AgentId agent;
  std::string site_id;
  std::string jwt;
  bool reenrolled = false;
  // The command keys to trust (docs/command-signing.md); empty when the server sent none.
  std::vector<signing::TrustedKey> command_keys;
};

Result<Accepted> parse_reply(std::string_view text, const broker::KeyPair& our_key) {
  json::error_code ec;
  auto doc = json::parse(text, ec);
  if (ec || !doc.is_object()) return fail("the enrollment reply is not a JSON object");
  const auto& o = doc.as_object();
  const auto* ok = o.if_contains("ok");
  if (ok == nullptr || !ok->is_bool()) return fail("the enrollment reply has no 'ok'");
  auto str = [](const json::object& from, std::string_view key) -> std::string {
    const auto* v = from.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  if (!ok->as_bool()) {
    return fail(Error::Code::kInvalidInput,
                fmt::format("enrollment refused ({}): {}", str(o, "error"), str(o, "message")));
  }
  // The secrets are sealed to our new key: other installers can see the reply, not read it.
  auto sealed = broker::b64url_decode(str(o, "sealed"));
  if (!sealed || sealed->empty()) return fail("the enrollment reply has no sealed part");
  auto opened = broker::open_sealed(our_key, *sealed);
  if (!opened) return std::unexpected(with_context(opened.error(), "the enrollment reply"));
  auto inner = json::parse(*opened, ec);
  if (ec || !inner.is_object()) return fail("the sealed enrollment reply is not a JSON object");
  const auto& secret = inner.as_object();
  auto agent = AgentId::parse(str(secret, "agent_id"));
  if (!agent || agent->is_nil()) return fail("the enrollment reply has no valid agent id");
  std::string jwt = str(secret, "jwt");
  auto verified = broker::decode_and_verify_jwt(jwt);
  if (!verified) return std::unexpected(with_context(verified.error(), "the credential"));
  if (verified->subject != our_key.public_key()) {
    return fail("the credential was issued for another key");
  }
  const auto* re = secret.if_contains("reenrolled");
  Accepted out{*agent,
               str(secret, "site_id"),
               std::move(jwt),
               re != nullptr && re->is_bool() && re->as_bool(),
               {}};
  if (const auto* keys = secret.if_contains("command_keys"); keys != nullptr) {
    if (!keys->is_array()) return fail("the enrollment reply's command_keys is not an array");
    std::vector<std::string> list;
    for (const auto& k : keys->as_array()) {
      if (!k.is_string()) return fail("the enrollment reply's command_keys holds a non-string");
      list.emplace_back(k.as_string());
    }
    auto parsed = parse_command_key_list(list);
    if (!parsed) return std::unexpected(with_context(parsed.error(), "the enrollment reply"));
    out.command_keys = std::move(*parsed);
  }
  return out;
}

// The sequence and outbox of another identity must not continue under the new one.
Status retire_old_state(const fs::path& state_dir, const std::optional<AgentId>& old) {
  std::error_code ec;
  fs::remove(state_dir / "seq", ec);
  if (ec) return failf("removing {}: {}", (state_dir / "seq").string(), ec.message());
  fs::path outbox = state_dir / "outbox";
  if (fs::exists(outbox, ec)) {
    fs::path aside = state_dir / ("outbox.retired-" + (old ? old->str() : std::string("unknown")));
    fs::rename(outbox, aside, ec);
    if (ec) return failf("moving the old outbox aside: {}", ec.message());
  }
  return {};
}

}  // namespace

Result<EnrollOutcome> enroll(const EnrollOptions& options, const MachineFacts& facts) {
  if (options.code.empty()) return fail(Error::Code::kInvalidInput, "no enrollment code given");
  if (auto s = files::secure_state_dir(options.state_dir); !s) return std::unexpected(s.error());
  auto previous = previous_identity(options.state_dir);
  // A fresh key pair per enrollment: a copied state directory never shares a key with the
  // machine it came from once it enrolls again.
  auto key = broker::KeyPair::generate(broker::KeyRole::kUser);
  const Clock& clock = options.clock != nullptr ? *options.clock : real_clock();
  auto reply = ask(options, request_json(options, facts, key.public_key(), previous,
                                         clock.now() / 1'000'000'000));
  if (!reply) return std::unexpected(reply.error());
  auto accepted = parse_reply(*reply, key);
  if (!accepted) return std::unexpected(accepted.error());

  std::optional<AgentId> previous_id;
  if (previous) previous_id = previous->id;
  bool changed = !previous_id || *previous_id != accepted->agent;
  if (changed) {
    if (auto s = retire_old_state(options.state_dir, previous_id); !s)
      return std::unexpected(s.error());
  }
  // The credential, then the id. A crash between the two leaves the new credential with the old
  // id: running `enroll` again then proves a key that is not the old id's, and gets a new id.
  if (auto s = files::write_atomic(options.state_dir / "agent.creds",
                                   broker::format_creds(accepted->jwt, key.seed()), 0600);
      !s) {
    return std::unexpected(s.error());
  }
  // The command keys before the id, like the credential: an identity is complete only with them.
  // A server that sends none leaves the file as it was.
  if (!accepted->command_keys.empty()) {
    if (auto s = save_command_keys(options.state_dir, accepted->command_keys); !s) {
      return std::unexpected(s.error());
    }
  }
  // The CA the agent and the updater pin from now on: the one this enrollment was answered over.
  if (!options.ca_file.empty()) {
    auto pem = files::read_all(options.ca_file);
    if (!pem) return std::unexpected(with_context(pem.error(), "--ca-file"));
    if (auto s = files::write_atomic(local::nats_ca_path(options.state_dir), *pem, 0644); !s) {
      return std::unexpected(s.error());
    }
  }
  if (auto s =
          files::write_atomic(options.state_dir / "agent_id", accepted->agent.str() + "\n", 0600);
      !s) {
    return std::unexpected(s.error());
  }
  return EnrollOutcome{accepted->agent, accepted->site_id, accepted->reenrolled, changed};
}

}  // namespace rmm::agent::enroll
