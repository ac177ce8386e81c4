// The few pieces of the NATS client protocol rmm-sim speaks (docs.nats.io "Client Protocol"):
// parsing server operations out of a byte stream, and formatting CONNECT, SUB, HPUB and PONG.
//
// Concurrency: plain functions and a parser object owned by one connection.
// Limitations: no TLS, no cluster INFO updates beyond the first INFO, no lame-duck handling.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rmm::sim {

struct ServerOp {
  enum class Kind { kInfo, kMsg, kPing, kPong, kOk, kErr };
  Kind kind = Kind::kOk;
  std::string_view subject;  // MSG / HMSG
  std::string_view reply;
  std::string_view headers;  // HMSG: "NATS/1.0\r\n..." block
  std::string_view payload;  // MSG / HMSG body; INFO / -ERR: the argument text
};

// Accumulates bytes and yields complete operations.
class WireParser {
 public:
  void feed(const char* data, std::size_t n) { buffer_.append(data, n); }
  // The next complete operation, or false when more bytes are needed. Views stay valid until
  // the next call. Sets `error` on a malformed stream.
  bool next(ServerOp& op, bool& error);

 private:
  std::string buffer_;
  std::size_t consumed_ = 0;
};

// The nonce of the server's INFO JSON (empty when absent).
std::string info_nonce(std::string_view info_json);

// CONNECT with a user JWT and the nonce's signature (base64url), headers enabled, then PING.
std::string connect_op(std::string_view jwt, std::string_view signature_b64, std::string_view name);

// HPUB with a Nats-Msg-Id header, appended to `out`.
void append_hpub(std::string& out, std::string_view subject, std::string_view reply,
                 std::string_view msg_id, std::string_view payload);

}  // namespace rmm::sim
