#include "agent/collectors/collection_errors.h"

#include "agent/platform/text_limits.h"

namespace rmm::agent::collectors {

void add_collection_error(std::vector<std::string>& errors, std::string_view collector,
                          const Error& error) {
  if (errors.size() >= platform::kMaxErrors) return;
  errors.push_back(platform::clip_text(std::string(collector) + ": " + error.message));
}

}  // namespace rmm::agent::collectors
