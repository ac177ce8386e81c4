#include "tools/replay/record_format.h"

#include <cerrno>
#include <cstring>

namespace rmm::replay {

namespace {

template <class T>
void put_le(T value, std::string& out) {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out.push_back(static_cast<char>((static_cast<std::uint64_t>(value) >> (8 * i)) & 0xff));
  }
}

template <class T>
T get_le(const char* p) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  return static_cast<T>(v);
}

constexpr std::uint32_t kMaxRecord = 64u << 20;

}  // namespace

void append_jsonl(const SchemaJson& schema, const Record& record, const std::uint8_t* verified,
                  std::string_view error, std::string& out) {
  out.append("{\"stream_seq\":");
  append_uint(record.stream_seq, out);
  out.append(",\"subject\":");
  append_json_string(record.subject, out);
  out.append(",\"stream_time\":\"");
  append_rfc3339(record.stream_time, out);
  out.append("\",\"event\":");
  if (verified != nullptr) {
    schema.append_root(verified, out);
  } else {
    out.append("null,\"error\":");
    append_json_string(error, out);
    out.append(",\"raw\":\"");
    append_base64(record.data, out);
    out.push_back('"');
  }
  out.append("}\n");
}

void append_raw(const Record& record, std::string& out) {
  std::uint16_t subject_len = static_cast<std::uint16_t>(record.subject.size());
  std::uint16_t id_len = static_cast<std::uint16_t>(record.msg_id.size());
  std::uint32_t len =
      8 + 8 + 2 + subject_len + 2 + id_len + static_cast<std::uint32_t>(record.data.size());
  put_le(len, out);
  put_le(record.stream_seq, out);
  put_le(static_cast<std::uint64_t>(record.stream_time), out);
  put_le(subject_len, out);
  out.append(record.subject.substr(0, subject_len));
  put_le(id_len, out);
  out.append(record.msg_id.substr(0, id_len));
  out.append(reinterpret_cast<const char*>(record.data.data()), record.data.size());
}

Status RawReader::read_header() {
  char magic[8];
  if (std::fread(magic, 1, sizeof magic, in_) != sizeof magic ||
      std::string_view(magic, sizeof magic) != kRawMagic) {
    return fail(Error::Code::kInvalidInput, "not an rmm-replay raw archive (bad magic)");
  }
  return {};
}

Result<bool> RawReader::next(Record& record) {
  char len_bytes[4];
  std::size_t got = std::fread(len_bytes, 1, 4, in_);
  if (got == 0 && std::feof(in_)) return false;
  if (got != 4) return fail(Error::Code::kInvalidInput, "truncated record length");
  auto len = get_le<std::uint32_t>(len_bytes);
  if (len < 20 || len > kMaxRecord) return failf("bad record length {}", len);
  buffer_.resize(len);
  if (std::fread(buffer_.data(), 1, len, in_) != len) {
    return fail(Error::Code::kInvalidInput, "truncated record");
  }
  const char* p = buffer_.data();
  record.stream_seq = get_le<std::uint64_t>(p);
  record.stream_time = static_cast<std::int64_t>(get_le<std::uint64_t>(p + 8));
  std::size_t pos = 16;
  auto subject_len = get_le<std::uint16_t>(p + pos);
  pos += 2;
  if (pos + subject_len + 2 > len) return fail("bad subject length");
  record.subject = std::string_view(p + pos, subject_len);
  pos += subject_len;
  auto id_len = get_le<std::uint16_t>(p + pos);
  pos += 2;
  if (pos + id_len > len) return fail("bad message id length");
  record.msg_id = std::string_view(p + pos, id_len);
  pos += id_len;
  record.data = {reinterpret_cast<const std::uint8_t*>(p + pos), len - pos};
  return true;
}

Status Sink::flush() {
  if (buffer_.empty()) return {};
  std::size_t n = std::fwrite(buffer_.data(), 1, buffer_.size(), out_);
  bool ok = n == buffer_.size() && std::fflush(out_) == 0;
  buffer_.clear();
  if (!ok) return failf("write failed: {}", std::strerror(errno));
  return {};
}

}  // namespace rmm::replay
