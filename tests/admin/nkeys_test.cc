#include "admin/nkeys.h"

#include <doctest/doctest.h>
#include <sodium.h>

#include <string>

using namespace rmm::broker;

TEST_CASE("base32 and CRC16-XMODEM match their reference vectors") {
  std::string foobar = "foobar";
  std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(foobar.data()),
                                      foobar.size());
  CHECK(base32_encode(bytes) == "MZXW6YTBOI");  // RFC 4648 without padding
  auto back = base32_decode("MZXW6YTBOI");
  REQUIRE(back.has_value());
  CHECK(std::string(back->begin(), back->end()) == foobar);
  CHECK_FALSE(base32_decode("MZXW6YTBO1").has_value());
  std::string check = "123456789";
  CHECK(crc16_xmodem({reinterpret_cast<const std::uint8_t*>(check.data()), check.size()}) ==
        0x31C3);
}

TEST_CASE("public keys and seeds round trip with their role prefixes") {
  struct Case {
    KeyRole role;
    char public_prefix;
    const char* seed_prefix;
  };
  for (auto c : {Case{KeyRole::kOperator, 'O', "SO"}, Case{KeyRole::kAccount, 'A', "SA"},
                 Case{KeyRole::kUser, 'U', "SU"}}) {
    auto kp = KeyPair::generate(c.role);
    std::string pub = kp.public_key();
    std::string seed = kp.seed();
    CHECK(pub.size() == 56);
    CHECK(seed.size() == 58);
    CHECK(pub.front() == c.public_prefix);
    CHECK(seed.starts_with(c.seed_prefix));

    auto decoded = decode_public_key(pub, c.role);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == kp.public_bytes());

    auto reloaded = KeyPair::from_seed(seed);
    REQUIRE(reloaded.has_value());
    CHECK(reloaded->role() == c.role);
    CHECK(reloaded->public_key() == pub);
  }
}

TEST_CASE("a corrupted or mislabelled key is rejected") {
  auto kp = KeyPair::generate(KeyRole::kAccount);
  std::string pub = kp.public_key();
  std::string seed = kp.seed();
  // Flip one character in the key body: the CRC no longer matches.
  std::string bad_pub = pub;
  bad_pub[10] = bad_pub[10] == 'A' ? 'B' : 'A';
  CHECK_FALSE(decode_public_key(bad_pub, KeyRole::kAccount).has_value());
  std::string bad_seed = seed;
  bad_seed[20] = bad_seed[20] == 'A' ? 'B' : 'A';
  CHECK_FALSE(KeyPair::from_seed(bad_seed).has_value());
  CHECK_FALSE(decode_public_key(pub, KeyRole::kUser).has_value());
  CHECK_FALSE(decode_public_key(pub.substr(0, 55), KeyRole::kAccount).has_value());
  CHECK_FALSE(KeyPair::from_seed(pub).has_value());
}

TEST_CASE("signatures verify with libsodium against the decoded public key") {
  auto kp = KeyPair::generate(KeyRole::kUser);
  std::string msg = "nonce-from-server";
  auto sig = kp.sign(msg);
  auto pk = decode_public_key(kp.public_key(), KeyRole::kUser);
  REQUIRE(pk.has_value());
  CHECK(crypto_sign_verify_detached(sig.data(), reinterpret_cast<const unsigned char*>(msg.data()),
                                    msg.size(), pk->data()) == 0);
  CHECK(verify_signature(kp.public_key(), msg, sig));
  CHECK_FALSE(verify_signature(kp.public_key(), "other message", sig));
  CHECK_FALSE(verify_signature(KeyPair::generate(KeyRole::kUser).public_key(), msg, sig));
}
