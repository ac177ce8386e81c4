// How collectors' failures are recorded in an event: "<collector>: <reason>", bounded in count
// and length like every other string the agent sends.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::agent::collectors {

void add_collection_error(std::vector<std::string>& errors, std::string_view collector,
                          const Error& error);

}  // namespace rmm::agent::collectors
