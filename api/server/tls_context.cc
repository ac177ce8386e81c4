#include "api/server/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/log.h"

namespace rmm::api {
namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2 suites: ephemeral ECDH, AEAD ciphers only. TLS 1.3 suites are all of that already.
constexpr const char* kTls12Ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL";

}  // namespace

Result<std::shared_ptr<ssl::context>> make_server_context(const std::string& cert_file,
                                                          const std::string& key_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  if (ec) return failf("TLS options: {}", ec.message());
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    ERR_clear_error();
    return fail("TLS: OpenSSL refused the protocol or cipher settings");
  }
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) return failf("tls-cert '{}': {}", cert_file, ec.message());
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) return failf("tls-key '{}': {}", key_file, ec.message());
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return failf("tls-key '{}' does not belong to the certificate in tls-cert '{}'", key_file,
                 cert_file);
  }
  return ctx;
}

TlsContextSource::TlsContextSource(TlsOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : real_clock()) {}

Result<std::unique_ptr<TlsContextSource>> TlsContextSource::load(TlsOptions options) {
  std::unique_ptr<TlsContextSource> source(new TlsContextSource(std::move(options)));
  source->loaded_ = source->stamp();
  auto ctx = make_server_context(source->options_.cert_file, source->options_.key_file);
  if (!ctx) return std::unexpected(ctx.error());
  source->context_ = std::move(*ctx);
  source->next_check_ = source->clock_.steady_now() + source->options_.check_interval;
  return source;
}

TlsContextSource::Stamp TlsContextSource::stamp() const {
  namespace fs = std::filesystem;
  std::error_code ec;  // a missing file stamps as "epoch, size 0": a change, then a failed load
  Stamp s;
  s.cert_time = fs::last_write_time(options_.cert_file, ec);
  s.cert_size = fs::file_size(options_.cert_file, ec);
  s.key_time = fs::last_write_time(options_.key_file, ec);
  s.key_size = fs::file_size(options_.key_file, ec);
  return s;
}

std::shared_ptr<ssl::context> TlsContextSource::current() {
  std::lock_guard lock(mu_);
  const auto now = clock_.steady_now();
  if (now < next_check_) return context_;
  next_check_ = now + options_.check_interval;
  const Stamp seen = stamp();
  if (seen == loaded_) return context_;
  auto fresh = make_server_context(options_.cert_file, options_.key_file);
  if (!fresh) {
    log::warn("http.tls_reload_failed",
              {{"error", fresh.error().message}, {"action", "keeping the loaded certificate"}});
    return context_;
  }
  context_ = std::move(*fresh);
  loaded_ = seen;
  log::info("http.tls_reloaded", {{"cert", options_.cert_file}});
  return context_;
}

}  // namespace rmm::api
