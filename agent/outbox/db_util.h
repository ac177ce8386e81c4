// Small helpers shared by the outbox's RocksDB code.
#pragma once

#include <rocksdb/slice.h>
#include <rocksdb/status.h>

#include <string_view>

#include "agent/outbox/record.h"
#include "common/result.h"

namespace rmm::agent::outbox {

inline rocksdb::Slice as_slice(const U64Bytes& b) {
  return {b.data(), b.size()};
}
inline rocksdb::Slice as_slice(std::string_view s) {
  return {s.data(), s.size()};
}

inline Error db_error(const rocksdb::Status& s, std::string_view what) {
  return Error{Error::Code::kGeneric, fmt::format("outbox {}: {}", what, s.ToString())};
}

}  // namespace rmm::agent::outbox
