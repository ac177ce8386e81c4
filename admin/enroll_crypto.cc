#include "admin/enroll_crypto.h"

#include <fmt/format.h>
#include <sodium.h>

#include <array>

namespace rmm::broker {
namespace {

constexpr std::size_t kSeedPrefixBytes = 2;
constexpr std::size_t kSeedBytes = 32;

// Wipes the secrets it holds when it goes out of scope, whichever way we leave.
template <std::size_t N>
struct Secret {
  std::array<unsigned char, N> bytes{};
  ~Secret() { sodium_memzero(bytes.data(), bytes.size()); }
};

}  // namespace

std::string reenroll_proof_message(const AgentId& agent, std::string_view new_public_key,
                                   std::string_view code, std::int64_t issued_at_seconds) {
  return fmt::format(
      "gururmm-reenroll-proof-v1\nagent_id={}\nnew_public_key={}\ncode={}\n"
      "issued_at={}",
      agent.str(), new_public_key, code, issued_at_seconds);
}

Result<std::string> seal_to_user_key(std::string_view recipient, std::string_view plaintext) {
  auto ed_pk = decode_public_key(recipient, KeyRole::kUser);
  if (!ed_pk) return std::unexpected(ed_pk.error());
  if (sodium_init() < 0) return fail("libsodium failed to initialise");
  std::array<unsigned char, crypto_box_PUBLICKEYBYTES> curve_pk{};
  if (crypto_sign_ed25519_pk_to_curve25519(curve_pk.data(), ed_pk->data()) != 0) {
    return fail(Error::Code::kInvalidInput, "the public key has no Curve25519 form");
  }
  std::string out(plaintext.size() + crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                      curve_pk.data()) != 0) {
    return fail("sealing the reply failed");
  }
  return out;
}

Result<std::string> open_sealed(const KeyPair& key, std::string_view sealed) {
  if (sealed.size() < crypto_box_SEALBYTES) {
    return fail(Error::Code::kInvalidInput, "the sealed reply is too short");
  }
  if (sodium_init() < 0) return fail("libsodium failed to initialise");
  // The Ed25519 secret key again from the seed text (prefix bytes, seed, CRC).
  std::string seed_text = key.seed();
  auto raw = base32_decode(seed_text);
  sodium_memzero(seed_text.data(), seed_text.size());
  if (!raw || raw->size() < kSeedPrefixBytes + kSeedBytes) return fail("the key's seed is invalid");
  Secret<crypto_sign_SECRETKEYBYTES> ed_sk;
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> ed_pk{};
  crypto_sign_seed_keypair(ed_pk.data(), ed_sk.bytes.data(), raw->data() + kSeedPrefixBytes);
  sodium_memzero(raw->data(), raw->size());
  Secret<crypto_box_SECRETKEYBYTES> curve_sk;
  std::array<unsigned char, crypto_box_PUBLICKEYBYTES> curve_pk{};
  if (crypto_sign_ed25519_sk_to_curve25519(curve_sk.bytes.data(), ed_sk.bytes.data()) != 0 ||
      crypto_sign_ed25519_pk_to_curve25519(curve_pk.data(), ed_pk.data()) != 0) {
    return fail("the key has no Curve25519 form");
  }
  std::string out(sealed.size() - crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(sealed.data()), sealed.size(),
                           curve_pk.data(), curve_sk.bytes.data()) != 0) {
    return fail(Error::Code::kInvalidInput, "the reply was not sealed to this agent's key");
  }
  return out;
}

}  // namespace rmm::broker
