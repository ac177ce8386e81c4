#include "common/signing.h"

#include <sodium.h>

#include "common/files.h"

namespace rmm::signing {
namespace {

constexpr std::string_view kSignatureTag = "ed25519 ";

// Idempotent and thread-safe; cheap after the first call.
void ensure_sodium() {
  [[maybe_unused]] static const int ready = sodium_init();
}

std::string hex(std::span<const std::uint8_t> bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.pop_back();
  return out;
}

template <std::size_t N>
bool unhex(std::string_view text, std::array<std::uint8_t, N>& out) {
  if (text.size() != N * 2) return false;
  std::size_t len = 0;
  return sodium_hex2bin(out.data(), N, text.data(), text.size(), nullptr, &len, nullptr) == 0 &&
         len == N;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::string_view problem_reason(SignatureProblem p) {
  switch (p) {
    case SignatureProblem::kUnknownKey:
      return "unknown_key";
    case SignatureProblem::kMalformed:
    case SignatureProblem::kBadSignature:
      break;
  }
  return "bad_signature";
}

std::string key_id(const PublicKey& key) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, key.data(), key.size());
  return hex(std::span<const std::uint8_t>(digest, 8));
}

std::string public_key_hex(const PublicKey& key) {
  return hex(key);
}

Result<PublicKey> parse_public_key(std::string_view text) {
  PublicKey key{};
  if (!unhex(trim(text), key)) return fail("a public key is 64 hex digits");
  return key;
}

SigningKey generate_key() {
  ensure_sodium();
  SigningKey k;
  crypto_sign_keypair(k.public_key.data(), k.secret.data());
  return k;
}

TrustedKey trusted_key(const PublicKey& key) {
  return {key_id(key), key};
}

Status save_private_key(const std::filesystem::path& path, const SigningKey& key,
                        std::string_view tag) {
  std::string content =
      std::string(tag) + " " + hex(std::span(key.secret).first(crypto_sign_SEEDBYTES)) + "\n";
  // write_new: never overwrite a release key by accident.
  auto st = files::write_new(path, content, 0600);
  sodium_memzero(content.data(), content.size());
  return st;
}

Result<SigningKey> load_private_key(const std::filesystem::path& path, std::string_view tag) {
  auto text = files::read_all(path);
  if (!text) return std::unexpected(text.error());
  std::string_view t = trim(*text);
  std::array<std::uint8_t, crypto_sign_SEEDBYTES> seed{};
  bool ok = t.starts_with(tag) && t.size() > tag.size() && t[tag.size()] == ' ' &&
            unhex(t.substr(tag.size() + 1), seed);
  sodium_memzero(text->data(), text->size());
  if (!ok) return failf("{}: not an {} private key", path.string(), tag);
  SigningKey k;
  crypto_sign_seed_keypair(k.public_key.data(), k.secret.data(), seed.data());
  sodium_memzero(seed.data(), seed.size());
  return k;
}

Signature sign(const SigningKey& key, std::string_view message) {
  ensure_sodium();
  Signature s;
  s.key_id = key_id(key.public_key);
  crypto_sign_detached(s.bytes.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       key.secret.data());
  return s;
}

std::string format_signature(const Signature& s) {
  return std::string(kSignatureTag) + s.key_id + " " + hex(s.bytes);
}

Result<Signature> parse_signature(std::string_view text) {
  text = trim(text);
  if (!text.starts_with(kSignatureTag)) return fail("not an ed25519 signature");
  text.remove_prefix(kSignatureTag.size());
  auto space = text.find(' ');
  if (space != 16) return fail("bad key id");
  Signature s;
  s.key_id = std::string(text.substr(0, space));
  if (!unhex(text.substr(space + 1), s.bytes)) return fail("bad signature bytes");
  return s;
}

Result<std::vector<TrustedKey>> parse_trusted_keys(std::string_view list) {
  std::vector<TrustedKey> out;
  while (!list.empty()) {
    auto comma = list.find_first_of(",\n");
    auto item = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (item.empty()) continue;
    auto key = parse_public_key(item);
    if (!key) return std::unexpected(key.error());
    out.push_back({key_id(*key), *key});
  }
  return out;
}

std::string format_trusted_keys(std::span<const TrustedKey> keys) {
  std::string out;
  for (const auto& k : keys) out += public_key_hex(k.public_key) + "\n";
  return out;
}

std::expected<void, SignatureProblem> verify(std::span<const TrustedKey> trusted,
                                             const Signature& sig, std::string_view message) {
  ensure_sodium();
  for (const auto& k : trusted) {
    if (k.key_id != sig.key_id) continue;
    if (crypto_sign_verify_detached(sig.bytes.data(),
                                    reinterpret_cast<const unsigned char*>(message.data()),
                                    message.size(), k.public_key.data()) == 0) {
      return {};
    }
    return std::unexpected(SignatureProblem::kBadSignature);
  }
  return std::unexpected(SignatureProblem::kUnknownKey);
}

std::expected<void, SignatureProblem> verify(std::span<const TrustedKey> trusted,
                                             std::string_view signature, std::string_view message) {
  auto sig = parse_signature(signature);
  if (!sig) return std::unexpected(SignatureProblem::kMalformed);
  return verify(trusted, *sig, message);
}

}  // namespace rmm::signing
