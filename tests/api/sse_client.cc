#include "tests/api/sse_client.h"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

namespace rmm::test {

SseClient::SseClient(int port, const std::string& target, const std::filesystem::path& ca) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd_ >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  if (!ca.empty()) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    REQUIRE(SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr) == 1);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    ssl_ = SSL_new(ctx_);
    REQUIRE(SSL_set1_host(ssl_, "127.0.0.1") == 1);
    REQUIRE(SSL_set_fd(ssl_, fd_) == 1);
    REQUIRE_MESSAGE(SSL_connect(ssl_) == 1, "TLS handshake failed");
  }
  std::string req =
      "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
  const auto sent = ssl_ != nullptr ? SSL_write(ssl_, req.data(), static_cast<int>(req.size()))
                                    : ::send(fd_, req.data(), req.size(), 0);
  REQUIRE(sent == static_cast<ssize_t>(req.size()));
}

SseClient::~SseClient() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  ::close(fd_);
}

bool SseClient::wait_for(const std::string& needle, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (text_.find(needle) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (read_some(static_cast<int>(left.count())) < 0) return false;
  }
  return true;
}

bool SseClient::wait_closed(std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    auto left = std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(
                                              deadline - std::chrono::steady_clock::now())
                                              .count());
    const int got = read_some(static_cast<int>(left));
    if (got < 0) return true;
    if (got == 0 && left == 0) return false;
  }
}

int SseClient::read_some(int ms) {
  if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return 0;
  }
  char buf[4096];
  ssize_t n = 0;
  if (ssl_ != nullptr) {
    n = SSL_read(ssl_, buf, sizeof buf);
    if (n <= 0) {
      const int err = SSL_get_error(ssl_, static_cast<int>(n));
      if (err == SSL_ERROR_WANT_READ) return 0;  // a record not complete yet
      clean_close_ = err == SSL_ERROR_ZERO_RETURN;
      return -1;
    }
  } else {
    n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return -1;
  }
  text_.append(buf, static_cast<std::size_t>(n));
  return 1;
}

}  // namespace rmm::test
