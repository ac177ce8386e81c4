#include "admin/identity.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cctype>

#include "admin/claims.h"
#include "admin/files.h"
#include "admin/jwt.h"
#include "admin/partition.h"
#include "admin/revocations.h"
#include "common/files.h"
#include "common/service_inboxes.h"

namespace rmm::broker {
namespace {

namespace fs = std::filesystem;

// Publish rights are checked on the subject after mapping, hence `rmm.p.*.evt.<id>.>`.
ScopedSigningKey agent_scope(const KeyPair& signer) {
  return ScopedSigningKey{
      .key = signer.public_key(),
      .role = "agent",
      // Its own command consumer's next-message and ack subjects, never $JS.API.> (see
      // admin/command_consumer.h); direct get on RMM_RELEASES, read-only, for rmm-updater.
      // The same next-message and direct-get subjects through a JetStream domain: an agent of a
      // site reaches the hub's domain across the site's leaf node (admin/leaf_config.h).
      .pub_allow = {"rmm.p.*.evt.{{tag(agent)}}.>",
                    "$JS.API.CONSUMER.MSG.NEXT.RMM_COMMANDS.{{tag(agent)}}",
                    "$JS.*.API.CONSUMER.MSG.NEXT.RMM_COMMANDS.{{tag(agent)}}",
                    "$JS.ACK.RMM_COMMANDS.{{tag(agent)}}.>", "$JS.API.DIRECT.GET.RMM_RELEASES.>",
                    "$JS.*.API.DIRECT.GET.RMM_RELEASES.>"},
      .sub_allow = {"rmm.cmd.{{tag(agent)}}", "_INBOX.{{tag(agent)}}.>"},
  };
}

SubjectMapping event_partition_mapping() {
  return SubjectMapping{
      .from = "rmm.evt.*.*",
      .to = fmt::format("rmm.p.{{{{partition({},1)}}}}.evt.{{{{wildcard(1)}}}}.{{{{wildcard(2)}}}}",
                        kEventPartitions),
  };
}

struct KeyFile {
  const char* file;
  KeyRole role;
  KeyPair Identity::*member;
};

constexpr KeyFile kKeyFiles[] = {
    {"operator.nk", KeyRole::kOperator, &Identity::operator_key},
    {"account_sys.nk", KeyRole::kAccount, &Identity::sys_account},
    {"account_rmm.nk", KeyRole::kAccount, &Identity::rmm_account},
    {"signing_rmm_agent.nk", KeyRole::kAccount, &Identity::agent_signer},
    {"user_services.nk", KeyRole::kUser, &Identity::services_user},
    {"user_sys.nk", KeyRole::kUser, &Identity::sys_user},
    {"user_enroll.nk", KeyRole::kUser, &Identity::enroll_user},
    {"user_api.nk", KeyRole::kUser, &Identity::api_user},
    {"user_projector.nk", KeyRole::kUser, &Identity::projector_user},
    {"user_rollout.nk", KeyRole::kUser, &Identity::rollout_user},
};

Result<KeyPair> load_key(const fs::path& path, KeyRole role) {
  auto text = files::read_all(path);
  if (!text) return std::unexpected(text.error());
  while (!text->empty() && (text->back() == '\n' || text->back() == '\r' || text->back() == ' ')) {
    text->pop_back();
  }
  auto key = KeyPair::from_seed(*text);
  if (!key) return std::unexpected(with_context(key.error(), path.string()));
  if (key->role() != role) return failf("{}: key has the wrong role", path.string());
  return key;
}

void mint_jwts(Identity& id, const RevocationMap& revocations) {
  id.operator_jwt = encode_jwt(operator_claims(id.operator_key.public_key(), "gururmm",
                                               id.sys_account.public_key(), kAccountClaimsEpoch),
                               id.operator_key);
  id.sys_account_jwt = encode_jwt(
      account_claims(id.sys_account.public_key(), AccountSpec{.name = std::string(kSysAccountName),
                                                              .issued_at = kAccountClaimsEpoch}),
      id.operator_key);
  AccountSpec rmm{.name = std::string(kRmmAccountName),
                  .jetstream = true,
                  .mappings = {event_partition_mapping()},
                  .scoped_keys = {agent_scope(id.agent_signer)},
                  .revocations = revocations,
                  .issued_at = account_claims_version(revocations)};
  id.rmm_account_jwt =
      encode_jwt(account_claims(id.rmm_account.public_key(), rmm), id.operator_key);
}

std::string user_creds(const KeyPair& user, const KeyPair& account, std::string_view name) {
  auto jwt =
      encode_jwt(user_claims(user.public_key(), UserSpec{.name = std::string(name)}), account);
  return format_creds(jwt, user.seed());
}

// May only ask to enroll and read the reply (docs/enrollment.md).
std::string enroll_user_creds(const Identity& id) {
  UserSpec spec{.name = "enroll",
                .pub_allow = {std::string(kEnrollSubject)},
                .sub_allow = {std::string(kEnrollInboxPrefix) + ".>"}};
  auto jwt = encode_jwt(user_claims(id.enroll_user.public_key(), spec), id.rmm_account);
  return format_creds(jwt, id.enroll_user.seed());
}

std::string restricted_creds(const KeyPair& user, const KeyPair& account, UserSpec spec) {
  auto jwt = encode_jwt(user_claims(user.public_key(), spec), account);
  return format_creds(jwt, user.seed());
}

// Consumer rights on one stream: create (ephemeral, named, durable), info, delete, next
// message, ack and flow control. Reading the stream is all they give.
void add_stream_reader(std::vector<std::string>& pub, std::string_view stream) {
  for (std::string_view pattern :
       {"$JS.API.CONSUMER.CREATE.{}", "$JS.API.CONSUMER.CREATE.{}.>",
        "$JS.API.CONSUMER.DURABLE.CREATE.{}.*", "$JS.API.CONSUMER.INFO.{}.*",
        "$JS.API.CONSUMER.DELETE.{}.*", "$JS.API.CONSUMER.MSG.NEXT.{}.*",
        "$JS.API.STREAM.MSG.GET.{}", "$JS.API.DIRECT.GET.{}", "$JS.API.DIRECT.GET.{}.>",
        "$JS.ACK.{}.>", "$JS.FC.{}.>"}) {
    pub.push_back(fmt::format(fmt::runtime(pattern), stream));
  }
}

// rmm-api: control events (every aggregate the API's intents touch), signed commands, the room
// left in RMM_COMMANDS, the command consumers of enrolling agents, the live event feed, and the
// replies to enrollment requests. Those are granted by subject, not as nats "allow responses":
// nats-server 2.9.10 forgets the requests a client may answer when the account JWT is updated,
// and answering a re-enrollment updates it (the retired key's revocation) before the reply.
UserSpec api_user_spec() {
  return UserSpec{
      .name = "api",
      .pub_allow = {"rmm.ctl.>", "rmm.cmd.*", std::string(kEnrollInboxPrefix) + ".>",
                    "$JS.API.INFO", "$JS.API.STREAM.INFO.*", "$JS.API.CONSUMER.INFO.RMM_COMMANDS.*",
                    "$JS.API.CONSUMER.DURABLE.CREATE.RMM_COMMANDS.*"},
      .sub_allow = {std::string(kEnrollSubject), "rmm.p.*.evt.>", "rmm.ctl.>",
                    std::string(nats::kApiInboxPrefix) + ".>"},
  };
}

// rmm-projector: reads the event log and its control archive, reads every stream's state
// (StreamWatch), publishes its clock ticks. No commands, no agent events, no stream changes.
UserSpec projector_user_spec() {
  UserSpec spec{.name = "projector",
                .pub_allow = {"rmm.ctl.clock.>", "$JS.API.INFO", "$JS.API.STREAM.INFO.*",
                              "$JS.API.STREAM.NAMES"},
                .sub_allow = {std::string(nats::kProjectorInboxPrefix) + ".>"}};
  add_stream_reader(spec.pub_allow, "RMM_EVENTS");
  add_stream_reader(spec.pub_allow, "RMM_CONTROL");
  return spec;
}

// The rollout controller: its rollout events, the CommandIssued of each update command, the
// signed update_agent commands, and the last sequence of RMM_EVENTS.
UserSpec rollout_user_spec() {
  return UserSpec{.name = "rollout",
                  .pub_allow = {"rmm.ctl.rollout.>", "rmm.ctl.command.>", "rmm.cmd.*",
                                "$JS.API.INFO", "$JS.API.STREAM.INFO.RMM_EVENTS"},
                  .sub_allow = {std::string(nats::kRolloutInboxPrefix) + ".>"}};
}

Result<Identity> load_or_create(const fs::path& home, bool create) {
  Identity id;
  id.dir = home / "nats";
  fs::path keys = id.dir / "keys";
  if (create) {
    if (auto s = files::ensure_dir(id.dir, 0700); !s) return std::unexpected(s.error());
    if (auto s = files::ensure_dir(keys, 0700); !s) return std::unexpected(s.error());
  }
  for (const auto& kf : kKeyFiles) {
    fs::path path = keys / kf.file;
    std::error_code ec;
    if (fs::exists(path, ec)) {
      auto key = load_key(path, kf.role);
      if (!key) return std::unexpected(key.error());
      id.*kf.member = std::move(*key);
      continue;
    }
    if (!create) {
      return fail(Error::Code::kNotFound,
                  fmt::format("{} is missing: run `rmm-admin init --home {}` first", path.string(),
                              home.string()));
    }
    id.*kf.member = KeyPair::generate(kf.role);
    if (auto s = files::write_atomic(path, (id.*kf.member).seed() + "\n", 0600); !s) {
      return std::unexpected(s.error());
    }
  }
  // A revocations file that cannot be read must stop us: minting without it would un-revoke.
  auto revocations = load_revocations(id.dir);
  if (!revocations) return std::unexpected(revocations.error());
  mint_jwts(id, *revocations);
  return id;
}

}  // namespace

Result<Identity> init_identity(const fs::path& home) {
  auto id = load_or_create(home, true);
  if (!id) return id;
  const std::pair<fs::path, std::string> files[] = {
      {id->dir / "operator.jwt", id->operator_jwt},
      {id->dir / "account_sys.jwt", id->sys_account_jwt},
      {id->dir / "account_rmm.jwt", id->rmm_account_jwt},
      {id->services_creds(), user_creds(id->services_user, id->rmm_account, "services")},
      {id->sys_creds(), user_creds(id->sys_user, id->sys_account, "sys")},
      {id->enroll_creds(), enroll_user_creds(*id)},
      {id->api_creds(), restricted_creds(id->api_user, id->rmm_account, api_user_spec())},
      {id->projector_creds(),
       restricted_creds(id->projector_user, id->rmm_account, projector_user_spec())},
      {id->rollout_creds(),
       restricted_creds(id->rollout_user, id->rmm_account, rollout_user_spec())},
  };
  for (const auto& [path, content] : files) {
    if (auto s = files::write_atomic(path, content, 0600); !s) return std::unexpected(s.error());
  }
  return id;
}

Result<Identity> load_identity(const fs::path& home) {
  return load_or_create(home, false);
}

std::string mint_agent_creds(const Identity& identity, const AgentId& agent) {
  auto user = KeyPair::generate(KeyRole::kUser);
  std::string id_text = agent.str();
  UserSpec spec{.name = "agent-" + id_text,
                .tags = {"agent:" + id_text},
                .issuer_account = identity.rmm_account.public_key(),
                .scoped = true};
  auto jwt = encode_jwt(user_claims(user.public_key(), spec), identity.agent_signer);
  return format_creds(jwt, user.seed());
}

std::string mint_agent_jwt(const KeyPair& agent_signer, std::string_view account_public_key,
                           const AgentId& agent, std::string_view agent_public_key) {
  std::string id_text = agent.str();
  UserSpec spec{.name = "agent-" + id_text,
                .tags = {"agent:" + id_text},
                .issuer_account = std::string(account_public_key),
                .scoped = true};
  return encode_jwt(user_claims(agent_public_key, spec), agent_signer);
}

Result<AgentSigner> load_agent_signer(const fs::path& home) {
  fs::path dir = home / "nats";
  auto key = load_key(dir / "keys" / "signing_rmm_agent.nk", KeyRole::kAccount);
  if (!key) return std::unexpected(key.error());
  auto account_jwt = files::read_all(dir / "account_rmm.jwt");
  if (!account_jwt) return std::unexpected(account_jwt.error());
  while (!account_jwt->empty() && std::isspace(static_cast<unsigned char>(account_jwt->back()))) {
    account_jwt->pop_back();
  }
  auto verified = decode_and_verify_jwt(*account_jwt);
  if (!verified) return std::unexpected(with_context(verified.error(), "account_rmm.jwt"));
  if (!role_of_public_key(verified->subject).has_value() ||
      *role_of_public_key(verified->subject) != KeyRole::kAccount) {
    return fail("account_rmm.jwt: subject is not an account key");
  }
  return AgentSigner{std::move(*key), verified->subject};
}

std::string agent_inbox_prefix(const AgentId& agent) {
  return "_INBOX." + agent.str();
}

}  // namespace rmm::broker
