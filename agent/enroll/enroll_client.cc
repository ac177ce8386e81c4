#include "agent/enroll/enroll_client.h"

#include <boost/json.hpp>
#include <system_error>

#include "admin/files.h"
#include "admin/identity.h"
#include "admin/jwt.h"
#include "admin/nkeys.h"
#include "agent/commands/command_keys.h"
#include "common/files.h"
#include "common/nats_connection.h"

namespace rmm::agent::enroll {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::optional<AgentId> previous_agent(const fs::path& state_dir) {
  auto text = files::read_all(state_dir / "agent_id");
  if (!text) return std::nullopt;
  auto id = AgentId::parse(trim(*text));
  if (!id) return std::nullopt;
  return *id;
}

std::string request_json(const EnrollOptions& o, const MachineFacts& f, std::string_view key,
                         const std::optional<AgentId>& previous) {
  json::object fp;
  fp["machine_id"] = f.machine_id;
  fp["dmi_serial"] = f.dmi_serial;
  json::array macs;
  for (const auto& m : f.macs) macs.emplace_back(m);
  fp["macs"] = std::move(macs);
  json::object req;
  req["version"] = 1;
  req["code"] = o.code;
  req["public_key"] = key;
  req["hostname"] = f.hostname;
  if (previous) req["agent_id"] = previous->str();
  req["fingerprint"] = std::move(fp);
  return json::serialize(req);
}

Result<std::string> ask(const EnrollOptions& o, const std::string& body) {
  nats::ConnectOptions opts;
  opts.url = o.server;
  opts.creds_file = o.enroll_creds.string();
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

Result<Accepted> parse_reply(std::string_view text, std::string_view our_key) {
  json::error_code ec;
  auto doc = json::parse(text, ec);
  if (ec || !doc.is_object()) return fail("the enrollment reply is not a JSON object");
  const auto& o = doc.as_object();
  const auto* ok = o.if_contains("ok");
  if (ok == nullptr || !ok->is_bool()) return fail("the enrollment reply has no 'ok'");
  auto str = [&](std::string_view key) -> std::string {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  if (!ok->as_bool()) {
    return fail(Error::Code::kInvalidInput,
                fmt::format("enrollment refused ({}): {}", str("error"), str("message")));
  }
  auto agent = AgentId::parse(str("agent_id"));
  if (!agent || agent->is_nil()) return fail("the enrollment reply has no valid agent id");
  std::string jwt = str("jwt");
  auto verified = broker::decode_and_verify_jwt(jwt);
  if (!verified) return std::unexpected(with_context(verified.error(), "the credential"));
  if (verified->subject != our_key) return fail("the credential was issued for another key");
  const auto* re = o.if_contains("reenrolled");
  Accepted out{
      *agent, str("site_id"), std::move(jwt), re != nullptr && re->is_bool() && re->as_bool(), {}};
  if (const auto* keys = o.if_contains("command_keys"); keys != nullptr) {
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
  if (auto s = files::ensure_dir(options.state_dir, 0700); !s) return std::unexpected(s.error());
  auto previous = previous_agent(options.state_dir);
  // A fresh key pair per enrollment: a copied state directory never shares a key with the
  // machine it came from once it enrolls again.
  auto key = broker::KeyPair::generate(broker::KeyRole::kUser);
  auto reply = ask(options, request_json(options, facts, key.public_key(), previous));
  if (!reply) return std::unexpected(reply.error());
  auto accepted = parse_reply(*reply, key.public_key());
  if (!accepted) return std::unexpected(accepted.error());

  bool changed = !previous || *previous != accepted->agent;
  if (changed) {
    if (auto s = retire_old_state(options.state_dir, previous); !s)
      return std::unexpected(s.error());
  }
  // The credential, then the id: a crash between the two leaves a state that running `enroll`
  // again repairs (the services side finds this machine by its fingerprint).
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
  if (auto s =
          files::write_atomic(options.state_dir / "agent_id", accepted->agent.str() + "\n", 0600);
      !s) {
    return std::unexpected(s.error());
  }
  return EnrollOutcome{accepted->agent, accepted->site_id, accepted->reenrolled, changed};
}

}  // namespace rmm::agent::enroll
