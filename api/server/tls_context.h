// The server side of HTTPS: an ssl::context built from a certificate chain file and its key, and
// replaced when those files change, so a renewed certificate is served without a restart.
//
// Reload: current() is called once per accepted connection. At most once per `check_interval`
// (one minute by default) it compares the files' modification times and sizes with those of the
// loaded pair and, when they differ, builds a new context. A pair that does not load (a renewal
// half written, a key that does not match the certificate) keeps the old context in service, is
// logged, and is tried again at every check until a pair loads. A connection keeps the context it
// was accepted with until it closes.
//
// The context: TLS 1.2 minimum; for TLS 1.2 only ECDHE key exchange with AES-GCM or ChaCha20
// (forward secrecy, AEAD; works with ECDSA and RSA keys), the server's order preferred; TLS 1.3
// keeps OpenSSL's suites.
//
// Concurrency: thread-safe (one mutex; a check is two stat() calls).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/result.h"

namespace rmm::api {

struct TlsOptions {
  std::string cert_file;  // PEM: the server certificate, then any intermediates
  std::string key_file;   // PEM: its private key
  std::chrono::milliseconds check_interval{60'000};
  const Clock* clock = nullptr;  // null: the real clock
};

// An ssl::context for a server from the two files; the error names the file that failed.
Result<std::shared_ptr<boost::asio::ssl::context>> make_server_context(const std::string& cert_file,
                                                                       const std::string& key_file);

class TlsContextSource {
 public:
  // Loads the pair once; fails (naming the file) when it does not load.
  static Result<std::unique_ptr<TlsContextSource>> load(TlsOptions options);

  // The context for a new connection (reloaded first when due and the files changed).
  std::shared_ptr<boost::asio::ssl::context> current();

 private:
  struct Stamp {
    std::filesystem::file_time_type cert_time, key_time;
    std::uintmax_t cert_size = 0, key_size = 0;
    bool operator==(const Stamp&) const = default;
  };
  explicit TlsContextSource(TlsOptions options);
  Stamp stamp() const;

  TlsOptions options_;
  const Clock& clock_;
  std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  Stamp loaded_;  // of the files context_ was built from
  std::chrono::steady_clock::time_point next_check_;
};

}  // namespace rmm::api
