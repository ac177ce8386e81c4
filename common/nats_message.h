// An owned NATS message (RAII over natsMsg*), with the JetStream metadata of stream deliveries.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/ids.h"
#include "common/result.h"

namespace rmm::nats {

// A natsStatus turned into an Error, with nats.c's thread-local detail. Call on the thread that
// made the failing call: nats_GetLastError() is per thread.
Error to_error(natsStatus status, std::string_view what);

class Message {
 public:
  Message() = default;
  explicit Message(natsMsg* msg) : msg_(msg) {}

  std::string_view subject() const;
  std::span<const std::uint8_t> data() const;
  std::optional<std::string> header(const char* key) const;
  // Position in the stream, for messages delivered by a JetStream consumer.
  Result<StreamSeq> stream_seq() const;
  Status ack();  // fire-and-forget: flush the connection before relying on it
  Status nak();
  natsMsg* raw() const { return msg_.get(); }
  explicit operator bool() const { return msg_ != nullptr; }

 private:
  struct Deleter {
    void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
  };
  std::unique_ptr<natsMsg, Deleter> msg_;
};

}  // namespace rmm::nats
