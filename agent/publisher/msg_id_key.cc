#include "agent/publisher/msg_id_key.h"

#include <sodium.h>

#include <algorithm>
#include <string_view>

#include "common/files.h"
#include "common/log.h"

namespace rmm::agent {

Result<MsgIdKey> load_or_create_msg_id_key(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) {
    auto text = files::read_all(file);
    if (!text) return std::unexpected(with_context(text.error(), "reading the msg id key"));
    if (text->size() == MsgIdKey::kSize) {
      MsgIdKey key;
      std::copy(text->begin(), text->end(), key.bytes.begin());
      sodium_memzero(text->data(), text->size());
      return key;
    }
    log::warn("agent.msg_id_key_replaced",
              {{"file", file.string()}, {"size", text->size()}, {"expected", MsgIdKey::kSize}});
  } else if (ec) {
    return failf("checking {}: {}", file.string(), ec.message());
  }
  auto key = MsgIdKey::generate();
  const std::string_view bytes(reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size());
  if (auto st = files::write_atomic(file, bytes, 0600); !st) {
    return std::unexpected(with_context(st.error(), "writing a new msg id key"));
  }
  log::info("agent.msg_id_key_created", {{"file", file.string()}});
  return key;
}

}  // namespace rmm::agent
