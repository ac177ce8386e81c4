#include "admin/jwt.h"

#include <doctest/doctest.h>
#include <sodium.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "admin/claims.h"

using namespace rmm::broker;
namespace json = boost::json;

TEST_CASE("a minted JWT has the NATS header, verifies with libsodium and its claims parse") {
  auto account = KeyPair::generate(KeyRole::kAccount);
  auto user = KeyPair::generate(KeyRole::kUser);
  std::string token = encode_jwt(user_claims(user.public_key(), UserSpec{.name = "svc"}), account);

  auto dot1 = token.find('.');
  auto dot2 = token.rfind('.');
  REQUIRE(dot1 != std::string::npos);
  REQUIRE(dot2 > dot1);
  auto header = b64url_decode(token.substr(0, dot1));
  REQUIRE(header.has_value());
  auto h = json::parse(*header).as_object();
  CHECK(h.at("alg") == "ed25519-nkey");
  CHECK(h.at("typ") == "JWT");

  auto sig = b64url_decode(token.substr(dot2 + 1));
  REQUIRE(sig.has_value());
  REQUIRE(sig->size() == crypto_sign_BYTES);
  auto pk = decode_public_key(account.public_key(), KeyRole::kAccount);
  REQUIRE(pk.has_value());
  std::string signed_part = token.substr(0, dot2);
  CHECK(crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                    reinterpret_cast<const unsigned char*>(signed_part.data()),
                                    signed_part.size(), pk->data()) == 0);

  auto verified = decode_and_verify_jwt(token);
  REQUIRE(verified.has_value());
  CHECK(verified->issuer == account.public_key());
  CHECK(verified->subject == user.public_key());
  const auto& nats = verified->claims.at("nats").as_object();
  CHECK(nats.at("type") == "user");
  CHECK(nats.at("version").to_number<int>() == 2);
  CHECK(nats.at("subs").to_number<int>() == -1);
  CHECK_FALSE(verified->claims.at("jti").as_string().empty());
  CHECK(verified->claims.at("iat").to_number<std::int64_t>() > 1'600'000'000);
}

TEST_CASE("a JWT with altered claims or a foreign signature is rejected") {
  auto account = KeyPair::generate(KeyRole::kAccount);
  auto user = KeyPair::generate(KeyRole::kUser);
  std::string token = encode_jwt(user_claims(user.public_key(), UserSpec{.name = "a"}), account);
  auto dot1 = token.find('.');
  auto dot2 = token.rfind('.');

  auto other = encode_jwt(user_claims(user.public_key(), UserSpec{.name = "b"}), account);
  std::string spliced = token.substr(0, dot1) +
                        other.substr(other.find('.'), other.rfind('.') - other.find('.')) +
                        token.substr(dot2);
  CHECK_FALSE(decode_and_verify_jwt(spliced).has_value());

  // Claims that name `account` as issuer but are signed by someone else.
  auto json_claims = user_claims(user.public_key(), UserSpec{.name = "a"});
  auto forged = encode_jwt(json_claims, KeyPair::generate(KeyRole::kAccount));
  auto fdot1 = forged.find('.');
  auto fdot2 = forged.rfind('.');
  auto claims = json::parse(*b64url_decode(forged.substr(fdot1 + 1, fdot2 - fdot1 - 1)));
  claims.as_object()["iss"] = account.public_key();
  std::string relabelled =
      forged.substr(0, fdot1) + "." + b64url_encode(json::serialize(claims)) + forged.substr(fdot2);
  CHECK_FALSE(decode_and_verify_jwt(relabelled).has_value());
  CHECK_FALSE(decode_and_verify_jwt("not.a.jwt").has_value());
  CHECK_FALSE(decode_and_verify_jwt("").has_value());
}

TEST_CASE("account claims carry JetStream limits, the partition mapping and the scoped key") {
  auto signer = KeyPair::generate(KeyRole::kAccount);
  AccountSpec spec{.name = "RMM",
                   .jetstream = true,
                   .mappings = {{"rmm.evt.*.*", "rmm.p.{{partition(16,1)}}.evt.x"}},
                   .scoped_keys = {{signer.public_key(), "agent", {"p.{{tag(agent)}}"}, {"s"}}}};
  auto c = account_claims(KeyPair::generate(KeyRole::kAccount).public_key(), spec);
  const auto& nats = c.at("nats").as_object();
  // Explicit limits, none of them -1 but the disk (bounded by max_file_store and the streams'
  // own limits, which the account requires).
  const auto& limits = nats.at("limits").as_object();
  CHECK(limits.at("disk_storage").to_number<int>() == -1);
  CHECK(limits.at("mem_storage").to_number<int>() == 0);
  CHECK(limits.at("max_bytes_required").as_bool());
  CHECK(limits.at("streams").to_number<int>() == 16);
  CHECK(limits.at("consumer").to_number<int>() == 100'000);
  CHECK(limits.at("conn").to_number<int>() == 100'000);
  CHECK(limits.at("leaf").to_number<int>() == 1'000);  // one per site leaf node
  CHECK(limits.at("subs").to_number<int>() == 10'000);
  CHECK(limits.at("payload").to_number<int>() == 9 * (1 << 20) + 64 * 1024);
  CHECK(limits.at("imports").to_number<int>() == 0);
  CHECK(limits.at("exports").to_number<int>() == 0);
  CHECK(nats.at("mappings").at("rmm.evt.*.*").at(0).at("weight").to_number<int>() == 100);
  const auto& key = nats.at("signing_keys").at(0).as_object();
  CHECK(key.at("kind") == "user_scope");
  CHECK(key.at("role") == "agent");
  CHECK(key.at("template").at("pub").at("allow").at(0) == "p.{{tag(agent)}}");
  // An agent connection: a handful of subscriptions, messages up to the broker's 1 MiB default.
  CHECK(key.at("template").at("subs").to_number<int>() == 64);
  CHECK(key.at("template").at("payload").to_number<int>() == 1 << 20);

  auto sys =
      account_claims(KeyPair::generate(KeyRole::kAccount).public_key(), AccountSpec{.name = "SYS"});
  CHECK(sys.at("nats").at("limits").at("disk_storage").to_number<int>() == 0);
  CHECK(sys.at("nats").at("limits").at("mem_storage").to_number<int>() == 0);
  CHECK_FALSE(sys.at("nats").at("limits").as_object().contains("streams"));
}
