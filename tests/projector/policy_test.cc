// Policy keys (validation, defaults) and the effective-policy merge at each level.
#include <doctest/doctest.h>

#include "projector/policy/policy_keys.h"
#include "projector/policy/policy_merge.h"

using namespace rmm;
using namespace rmm::policy;

namespace {

UuidBytes id(std::uint8_t n) {
  UuidBytes b{};
  b[15] = n;
  return b;
}

}  // namespace

TEST_CASE("validate_policy_value accepts the documented ranges and names what is wrong") {
  CHECK(validate_policy_value("alert.cpu.percent", "90").has_value());
  CHECK(validate_policy_value("alert.cpu.percent", "100").has_value());
  CHECK(validate_policy_value("alert.cpu.minutes", "0").has_value());
  CHECK(validate_policy_value("auto_update", "on").has_value());
  CHECK(validate_policy_value("alert.offline.after_s", "+30").has_value());

  auto unknown = validate_policy_value("alert.cpu.persent", "90");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().code == Error::Code::kInvalidInput);
  CHECK(unknown.error().message.find("unknown policy key 'alert.cpu.persent'") !=
        std::string::npos);
  auto range = validate_policy_value("alert.cpu.percent", "101");
  REQUIRE_FALSE(range.has_value());
  CHECK(range.error().message.find("outside [1, 100] percent") != std::string::npos);
  CHECK_FALSE(validate_policy_value("alert.offline.after_s", "29").has_value());
  CHECK_FALSE(validate_policy_value("alert.cpu.percent", "9x").has_value());
  CHECK_FALSE(validate_policy_value("alert.cpu.percent", "").has_value());
  CHECK_FALSE(validate_policy_value("alert.cpu.percent", "99999999999999999999999").has_value());
  CHECK_FALSE(validate_policy_value("alert.cpu.percent", "8.5").has_value());
  auto choice = validate_policy_value("auto_update", "yes");
  REQUIRE_FALSE(choice.has_value());
  CHECK(choice.error().message.find("'off', 'on'") != std::string::npos);
}

TEST_CASE("every default is valid for its own key") {
  CHECK(policy_keys().size() == 16);
  for (const auto& k : policy_keys()) {
    INFO(k.key);
    CHECK(validate_policy_value(k.key, k.default_value).has_value());
    CHECK(find_policy_key(k.key) == &k);
  }
}

TEST_CASE("merge: defaults, then global, client, site, agent; most specific wins, source kept") {
  PolicyDoc global{Level::kGlobal, {}, {{"alert.cpu.percent", "80"}, {"alert.disk.percent", "85"}}};
  PolicyDoc client{Level::kClient, id(1), {{"alert.cpu.percent", "70"}, {"auto_update", "on"}}};
  PolicyDoc site{
      Level::kSite, id(2), {{"alert.cpu.percent", "60"}, {"alert.memory.percent", "75"}}};
  PolicyDoc agent{Level::kAgent, id(3), {{"alert.cpu.percent", "50"}}};

  SUBCASE("defaults only") {
    auto p = merge_policy({});
    CHECK(p.size() == policy_keys().size());
    CHECK(p.at("alert.cpu.percent") == EffectiveValue{"90", Level::kDefault, std::nullopt});
    CHECK(p.at("auto_update").value == "off");
  }
  SUBCASE("global") {
    auto p = merge_policy({&global});
    CHECK(p.at("alert.cpu.percent") == EffectiveValue{"80", Level::kGlobal, std::nullopt});
    CHECK(p.at("alert.memory.percent").source == Level::kDefault);
  }
  SUBCASE("client over global") {
    auto p = merge_policy({&client, &global});  // any order
    CHECK(p.at("alert.cpu.percent") == EffectiveValue{"70", Level::kClient, id(1)});
    CHECK(p.at("alert.disk.percent") == EffectiveValue{"85", Level::kGlobal, std::nullopt});
    CHECK(p.at("auto_update") == EffectiveValue{"on", Level::kClient, id(1)});
  }
  SUBCASE("site over client") {
    auto p = merge_policy({&global, &site, &client});
    CHECK(p.at("alert.cpu.percent") == EffectiveValue{"60", Level::kSite, id(2)});
    CHECK(p.at("alert.memory.percent") == EffectiveValue{"75", Level::kSite, id(2)});
    CHECK(p.at("auto_update").source == Level::kClient);
  }
  SUBCASE("agent over everything") {
    auto p = merge_policy({&agent, &site, &client, &global});
    CHECK(p.at("alert.cpu.percent") == EffectiveValue{"50", Level::kAgent, id(3)});
    CHECK(p.at("alert.disk.percent").source == Level::kGlobal);
    CHECK(policy_int(p, "alert.cpu.percent") == 50);
  }
  SUBCASE("unknown keys and invalid values are skipped; the level below shows through") {
    PolicyDoc bad{Level::kAgent, id(3), {{"no.such.key", "1"}, {"alert.cpu.percent", "500"}}};
    std::vector<std::string> skipped;
    auto p = merge_policy({&global, &bad}, &skipped);
    CHECK(p.at("alert.cpu.percent") == EffectiveValue{"80", Level::kGlobal, std::nullopt});
    CHECK_FALSE(p.contains("no.such.key"));
    CHECK(skipped == std::vector<std::string>{"alert.cpu.percent", "no.such.key"});
  }
  CHECK(level_name(Level::kDefault) == "default");
  CHECK(level_name(Level::kAgent) == "agent");
}
