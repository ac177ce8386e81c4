#include "common/nats_message.h"

namespace rmm::nats {

Error to_error(natsStatus status, std::string_view what) {
  const char* detail = nats_GetLastError(nullptr);
  std::string message = fmt::format("{}: {}", what, natsStatus_GetText(status));
  if (detail != nullptr && *detail != '\0' &&
      std::string_view(detail) != natsStatus_GetText(status)) {
    message += fmt::format(" ({})", detail);
  }
  Error::Code code = Error::Code::kGeneric;
  if (status == NATS_TIMEOUT) code = Error::Code::kTimeout;
  if (status == NATS_NOT_FOUND) code = Error::Code::kNotFound;
  return Error{code, std::move(message)};
}

std::string_view Message::subject() const {
  const char* s = natsMsg_GetSubject(msg_.get());
  return s == nullptr ? std::string_view() : std::string_view(s);
}

std::span<const std::uint8_t> Message::data() const {
  const char* d = natsMsg_GetData(msg_.get());
  int len = natsMsg_GetDataLength(msg_.get());
  if (d == nullptr || len <= 0) return {};
  return {reinterpret_cast<const std::uint8_t*>(d), static_cast<std::size_t>(len)};
}

std::optional<std::string> Message::header(const char* key) const {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg_.get(), key, &value) != NATS_OK || value == nullptr) {
    return std::nullopt;
  }
  return std::string(value);
}

Result<StreamSeq> Message::stream_seq() const {
  jsMsgMetaData* meta = nullptr;
  natsStatus s = natsMsg_GetMetaData(&meta, msg_.get());
  if (s != NATS_OK) return std::unexpected(to_error(s, "reading JetStream metadata"));
  StreamSeq seq{meta->Sequence.Stream};
  jsMsgMetaData_Destroy(meta);
  return seq;
}

Status Message::ack() {
  natsStatus s = natsMsg_Ack(msg_.get(), nullptr);
  if (s != NATS_OK) return std::unexpected(to_error(s, "ack"));
  return {};
}

Status Message::nak() {
  natsStatus s = natsMsg_Nak(msg_.get(), nullptr);
  if (s != NATS_OK) return std::unexpected(to_error(s, "nak"));
  return {};
}

}  // namespace rmm::nats
