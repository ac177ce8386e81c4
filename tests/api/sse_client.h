// A raw Server-Sent-Events client for GET /api/v1/live in tests: sends the request, then
// accumulates what arrives. With a CA: over TLS (OpenSSL on the same socket), trusting that CA
// only, for the name 127.0.0.1.
//
// Concurrency: one thread. Limitations: IPv4 loopback only; REQUIREs a working connection.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <filesystem>
#include <string>

namespace rmm::test {

class SseClient {
 public:
  SseClient(int port, const std::string& target, const std::filesystem::path& ca = {});
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  // Reads until `needle` arrived (true) or `limit` passed (false).
  bool wait_for(const std::string& needle, std::chrono::milliseconds limit);
  // True when the server closed the connection within `limit` (0: only what already arrived).
  bool wait_closed(std::chrono::milliseconds limit);
  const std::string& text() const { return text_; }
  // TLS: the server ended the stream with close_notify (not a cut connection).
  bool closed_cleanly() const { return clean_close_; }

 private:
  // Appends what arrives within `ms`: 1 read, 0 nothing yet, -1 closed.
  int read_some(int ms);

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool clean_close_ = false;
  std::string text_;
};

}  // namespace rmm::test
