// common/platform/system on Windows: the processor architecture in uname's words, and loopback
// addresses told apart with Winsock's parser.
#include "common/platform/system.h"

#include <doctest/doctest.h>

namespace rmm {

TEST_CASE("machine_arch names the processor as uname does") {
  // The test program is an x86_64 build; Wine64 (and x64 Windows) run it natively.
  CHECK(platform::machine_arch() == "x86_64");
}

TEST_CASE("ip_is_loopback tells loopback, other and non-addresses apart") {
  CHECK(platform::ip_is_loopback("127.0.0.1") == std::optional<bool>(true));
  CHECK(platform::ip_is_loopback("::1") == std::optional<bool>(true));
  CHECK(platform::ip_is_loopback("10.0.0.1") == std::optional<bool>(false));
  CHECK(!platform::ip_is_loopback("localhost").has_value());
}

}  // namespace rmm
