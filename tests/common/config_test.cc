#include "common/config.h"

#include <doctest/doctest.h>

#include <array>

using namespace rmm::config;
using namespace std::chrono_literals;

namespace {
constexpr std::array<Setting, 3> kSpecs = {{
    {"heartbeat-interval", Type::kDuration, "30s", "how often", 1000, 3'600'000},
    {"batch-size", Type::kInt, "512", "events per batch", 1, 10'000},
    {"name", Type::kString, "", "a name"},
}};
}  // namespace

TEST_CASE("durations parse with units and reject junk") {
  CHECK(parse_duration("250ms").value() == 250ms);
  CHECK(parse_duration("30s").value() == 30s);
  CHECK(parse_duration("5m").value() == 5min);
  CHECK(parse_duration("400d").value() == std::chrono::hours(24 * 400));
  CHECK_FALSE(parse_duration("30").has_value());
  CHECK_FALSE(parse_duration("s").has_value());
  CHECK_FALSE(parse_duration("3x").has_value());
}

TEST_CASE("sizes parse with binary units and reject ambiguous or junk units") {
  CHECK(parse_size("4096").value() == 4096);
  CHECK(parse_size("512KiB").value() == 512 * 1024);
  CHECK(parse_size("64MiB").value() == 64LL << 20);
  CHECK(parse_size("20GiB").value() == 20LL << 30);
  CHECK(parse_size("2TiB").value() == 2LL << 40);
  CHECK_FALSE(parse_size("20GB").has_value());
  CHECK_FALSE(parse_size("MiB").has_value());
  CHECK_FALSE(parse_size("-1").has_value());
  CHECK_FALSE(parse_size("9000000TiB").has_value());
  const Setting spec{"max-bytes", Type::kSize, "1GiB", "a limit", 1 << 20, 1LL << 40};
  CHECK(check_value(spec, "2GiB").value() == 2LL << 30);
  CHECK_FALSE(check_value(spec, "1KiB").has_value());
}

TEST_CASE("flags override defaults and positionals are kept") {
  const char* argv[] = {"prog", "--batch-size=64", "sub", "--heartbeat-interval", "2s"};
  auto v = Values::load(kSpecs, 5, argv);
  REQUIRE(v.has_value());
  CHECK(v->integer("batch-size") == 64);
  CHECK(v->duration("heartbeat-interval") == 2s);
  CHECK(v->str("name").empty());
  REQUIRE(v->positional().size() == 1);
  CHECK(v->positional()[0] == "sub");
}

TEST_CASE("an out-of-range value is a startup error naming the key") {
  const char* argv[] = {"prog", "--batch-size=0"};
  auto v = Values::load(kSpecs, 2, argv);
  REQUIRE_FALSE(v.has_value());
  CHECK(v.error().message.find("batch-size") != std::string::npos);
}

TEST_CASE("unknown options are refused") {
  const char* argv[] = {"prog", "--no-such-thing=1"};
  auto v = Values::load(kSpecs, 2, argv);
  REQUIRE_FALSE(v.has_value());
  CHECK(v.error().message.find("no-such-thing") != std::string::npos);
}

TEST_CASE("environment variables sit between flags and defaults") {
  ::setenv("RMM_BATCH_SIZE", "99", 1);
  const char* argv[] = {"prog"};
  auto v = Values::load(kSpecs, 1, argv);
  ::unsetenv("RMM_BATCH_SIZE");
  REQUIRE(v.has_value());
  CHECK(v->integer("batch-size") == 99);
  CHECK(env_name("heartbeat-interval") == "RMM_HEARTBEAT_INTERVAL");
}
