#include "api/install/key_pin.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <array>
#include <memory>

#include "common/files.h"

namespace rmm::api::install {

Result<std::string> public_key_pin_of_pem(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return fail("out of memory");
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) return fail(Error::Code::kInvalidInput, "no PEM certificate");
  const X509_PUBKEY* key = X509_get_X509_PUBKEY(cert.get());
  unsigned char* der = nullptr;
  int len = i2d_X509_PUBKEY(key, &der);
  if (len <= 0 || der == nullptr) return fail("cannot encode the certificate's public key");
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(der, static_cast<std::size_t>(len), digest.data());
  OPENSSL_free(der);
  // 32 bytes are 44 base64 characters with padding, plus the terminator EVP_EncodeBlock writes.
  std::array<unsigned char, 45> b64{};
  int n = EVP_EncodeBlock(b64.data(), digest.data(), static_cast<int>(digest.size()));
  return "sha256//" +
         std::string(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n));
}

Result<std::string> public_key_pin(const std::filesystem::path& cert_pem) {
  auto text = files::read_all(cert_pem);
  if (!text) return std::unexpected(text.error());
  auto pin = public_key_pin_of_pem(*text);
  if (!pin) return std::unexpected(with_context(pin.error(), cert_pem.string()));
  return pin;
}

}  // namespace rmm::api::install
