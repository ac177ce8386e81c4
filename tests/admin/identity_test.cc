#include "admin/identity.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <boost/json/value.hpp>

#include "admin/files.h"
#include "admin/jwt.h"
#include "admin/partition.h"
#include "admin/revocations.h"
#include "admin/server_config.h"
#include "common/files.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using namespace rmm::broker;
namespace fs = std::filesystem;

namespace {

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

// The text between a BEGIN line and the next END line of a .creds file.
std::string creds_block(const std::string& creds, std::string_view begin) {
  auto b = creds.find(begin);
  REQUIRE(b != std::string::npos);
  auto start = creds.find('\n', b) + 1;
  auto end = creds.find('\n', start);
  return creds.substr(start, end - start);
}

}  // namespace

TEST_CASE("identity init is idempotent and keeps keys private") {
  test::TempDir home("identity");
  auto first = init_identity(home.path());
  REQUIRE(first.has_value());
  auto second = init_identity(home.path());
  REQUIRE(second.has_value());
  CHECK(first->operator_key.public_key() == second->operator_key.public_key());
  CHECK(first->sys_account.public_key() == second->sys_account.public_key());
  CHECK(first->rmm_account.public_key() == second->rmm_account.public_key());
  CHECK(first->agent_signer.public_key() == second->agent_signer.public_key());
  CHECK(first->services_user.public_key() == second->services_user.public_key());
  CHECK(first->rmm_account.public_key() != first->sys_account.public_key());

  CHECK(mode_of(home / "nats") == 0700);
  CHECK(mode_of(home / "nats/keys") == 0700);
  int key_files = 0;
  for (const auto& e : fs::directory_iterator(home / "nats/keys")) {
    CHECK(mode_of(e.path()) == 0600);
    ++key_files;
  }
  // operator, 2 accounts, agent signer, users services, sys, enroll, api, projector, rollout
  CHECK(key_files == 10);
  for (const auto& creds : {first->services_creds(), first->enroll_creds(), first->sys_creds(),
                            first->api_creds(), first->projector_creds(), first->rollout_creds()}) {
    CHECK(mode_of(creds) == 0600);
  }

  auto loaded = load_identity(home.path());
  REQUIRE(loaded.has_value());
  CHECK(loaded->operator_key.public_key() == first->operator_key.public_key());
}

TEST_CASE("load_identity without init fails with kNotFound") {
  test::TempDir home("identity");
  auto id = load_identity(home.path());
  REQUIRE_FALSE(id.has_value());
  CHECK(id.error().code == Error::Code::kNotFound);
}

TEST_CASE("the account and user JWTs are signed by the right keys") {
  test::TempDir home("identity");
  auto id = init_identity(home.path());
  REQUIRE(id.has_value());
  auto op = decode_and_verify_jwt(id->operator_jwt);
  REQUIRE(op.has_value());
  CHECK(op->issuer == id->operator_key.public_key());
  auto rmm_acc = decode_and_verify_jwt(id->rmm_account_jwt);
  REQUIRE(rmm_acc.has_value());
  CHECK(rmm_acc->issuer == id->operator_key.public_key());
  CHECK(rmm_acc->subject == id->rmm_account.public_key());
  const auto& nats = rmm_acc->claims.at("nats").as_object();
  CHECK(nats.at("mappings").as_object().contains("rmm.evt.*.*"));
  CHECK(nats.at("signing_keys").at(0).at("key").as_string() == id->agent_signer.public_key());

  auto services = files::read_all(id->services_creds());
  REQUIRE(services.has_value());
  auto svc_jwt = decode_and_verify_jwt(creds_block(*services, "BEGIN NATS USER JWT"));
  REQUIRE(svc_jwt.has_value());
  CHECK(svc_jwt->issuer == id->rmm_account.public_key());
  auto svc_seed = KeyPair::from_seed(creds_block(*services, "BEGIN USER NKEY SEED"));
  REQUIRE(svc_seed.has_value());
  CHECK(svc_seed->public_key() == svc_jwt->subject);
}

TEST_CASE(
    "the RMM account JWT's iat is its version: the latest revocation, never before the epoch") {
  test::TempDir home("identity");
  auto id = init_identity(home.path());
  REQUIRE(id.has_value());
  auto iat = [](const std::string& jwt) {
    auto v = decode_and_verify_jwt(jwt);
    REQUIRE(v.has_value());
    return v->claims.at("iat").to_number<std::int64_t>();
  };
  CHECK(iat(id->rmm_account_jwt) == kAccountClaimsEpoch);
  // Minted again from the same revocations: the same JWT, byte for byte (same jti), so a node's
  // full resolver never takes a re-rendered config's preload for news.
  auto again = load_identity(home.path());
  REQUIRE(again.has_value());
  CHECK(again->rmm_account_jwt == id->rmm_account_jwt);
  // A config rendered again keeps its operator JWT: nats-server 2.9.10 reloads no other.
  CHECK(again->operator_jwt == id->operator_jwt);
  CHECK(again->sys_account_jwt == id->sys_account_jwt);

  const auto user = KeyPair::generate(KeyRole::kUser);
  const auto other = KeyPair::generate(KeyRole::kUser);
  RevocationMap revoked{{user.public_key(), kAccountClaimsEpoch + 500},
                        {other.public_key(), kAccountClaimsEpoch + 20}};
  REQUIRE(save_revocations(id->dir, revoked).has_value());
  auto later = load_identity(home.path());
  REQUIRE(later.has_value());
  CHECK(iat(later->rmm_account_jwt) == kAccountClaimsEpoch + 500);
  auto read_back = revocations_in_jwt(later->rmm_account_jwt, id->operator_key.public_key(),
                                      id->rmm_account.public_key());
  REQUIRE(read_back.has_value());
  CHECK(*read_back == revoked);
  // Only our operator's claims for our account are merged.
  CHECK_FALSE(revocations_in_jwt(later->rmm_account_jwt, id->rmm_account.public_key(),
                                 id->rmm_account.public_key())
                  .has_value());
  CHECK_FALSE(revocations_in_jwt(later->sys_account_jwt, id->operator_key.public_key(),
                                 id->rmm_account.public_key())
                  .has_value());
}

TEST_CASE("an agent credential carries only its tag and issuer_account") {
  test::TempDir home("identity");
  auto id = init_identity(home.path());
  REQUIRE(id.has_value());
  auto agent = AgentId::generate(real_clock());
  std::string creds = mint_agent_creds(*id, agent);
  auto jwt = decode_and_verify_jwt(creds_block(creds, "BEGIN NATS USER JWT"));
  REQUIRE(jwt.has_value());
  CHECK(jwt->issuer == id->agent_signer.public_key());
  const auto& nats = jwt->claims.at("nats").as_object();
  CHECK(nats.at("issuer_account").as_string() == id->rmm_account.public_key());
  CHECK(nats.at("tags").at(0).as_string() == "agent:" + agent.str());
  CHECK_FALSE(nats.contains("pub"));
  CHECK_FALSE(nats.contains("sub"));
  CHECK_FALSE(nats.contains("subs"));
  CHECK(agent_inbox_prefix(agent) == "_INBOX." + agent.str());
}

TEST_CASE("the rendered config names the port, store dir, operator and both accounts") {
  test::TempDir home("identity");
  auto id = init_identity(home.path());
  REQUIRE(id.has_value());
  auto text = render_server_config(*id, {.port = 4333, .jetstream_dir = home / "js"});
  REQUIRE(text.has_value());
  CHECK(text->find("listen: 127.0.0.1:4333") != std::string::npos);
  CHECK(text->find("http:") == std::string::npos);
  CHECK(text->find((home / "js").string()) != std::string::npos);
  CHECK(text->find(id->operator_jwt) != std::string::npos);
  CHECK(text->find(id->rmm_account.public_key() + ": \"" + id->rmm_account_jwt) !=
        std::string::npos);
  CHECK(text->find("resolver: MEMORY") != std::string::npos);
  // The store's limit is its filesystem's size: the streams' limits are what bound it.
  auto fs_size = filesystem_size(home / "js");  // not created yet: its parent's filesystem
  REQUIRE(fs_size.has_value());
  CHECK(*fs_size > 0);
  CHECK(text->find(fmt::format("max_file_store: {}\n", *fs_size)) != std::string::npos);
  CHECK(text->find("@@") == std::string::npos);
  auto sized = render_server_config(
      *id, {.port = 4333, .jetstream_dir = home / "js", .max_file_store = 1LL << 30});
  REQUIRE(sized.has_value());
  CHECK(sized->find("max_file_store: 1073741824\n") != std::string::npos);
  auto with_monitor =
      render_server_config(*id, {.port = 4333, .monitor_port = 8333, .jetstream_dir = home / "js"});
  REQUIRE(with_monitor.has_value());
  CHECK(with_monitor->find("http: 127.0.0.1:8333\n") != std::string::npos);
  CHECK_FALSE(render_server_config(*id, {.port = 0, .jetstream_dir = home / "js"}).has_value());
}

TEST_CASE("partition_of is FNV-1a-32 modulo n") {
  CHECK(fnv1a_32("") == 0x811c9dc5u);
  CHECK(fnv1a_32("a") == 0xe40c292cu);
  CHECK(fnv1a_32("foobar") == 0xbf9cf968u);
  CHECK(partition_of("a", 16) == static_cast<int>(0xe40c292cu % 16));
  for (int i = 0; i < 100; ++i) {
    int k = partition_of(AgentId::generate(real_clock()).str(), kEventPartitions);
    CHECK(k >= 0);
    CHECK(k < kEventPartitions);
  }
}
