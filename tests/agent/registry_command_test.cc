// The registry command without Windows: its wire form (every operation and value type survives
// build, verify and read; what this build cannot know is refused with a reason), the checks the
// API and the agent share, the JSON answers the dashboard parses, and the Linux answer
// (not supported). The registry itself is tested under Wine (tests/windows/).
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "agent/commands/registry_action.h"
#include "common/command_codec.h"
#include "common/registry_spec.h"
#include "tests/agent/commands_test_util.h"

using namespace rmm;
using namespace rmm::test;
using codec::RegistrySpec;
using codec::RegistryValueSpec;
using schema::RegistryHive;
using schema::RegistryOperation;
using schema::RegistryValueType;
namespace platform = rmm::agent::platform;

namespace {

RegistrySpec set_spec(RegistryValueSpec value) {
  return {.op = RegistryOperation::Set,
          .hive = RegistryHive::HKLM,
          .key = "Software\\GuruRMM",
          .name = "Name",
          .value = std::move(value)};
}

Result<codec::CommandInfo> round_trip(const codec::CommandAction& action) {
  auto bytes = codec::build_command(action_command(action));
  auto env = codec::verify_command(bytes);
  REQUIRE(env.has_value());
  return codec::read_command(**env);
}

// An envelope whose RegistryCommand holds the given raw enum values.
std::vector<std::uint8_t> raw_registry_command(std::uint8_t op, std::uint8_t hive,
                                               std::optional<std::uint8_t> type) {
  flatbuffers::FlatBufferBuilder fbb;
  flatbuffers::Offset<schema::RegistryValueData> value;
  if (type) {
    value = schema::CreateRegistryValueData(fbb, static_cast<RegistryValueType>(*type));
  }
  auto key = fbb.CreateString("Software");
  auto reg = schema::CreateRegistryCommand(fbb, static_cast<RegistryOperation>(op),
                                           static_cast<RegistryHive>(hive), key, 0, value);
  auto id = codec::to_wire(CommandId::generate(real_clock()).bytes());
  auto issuer = fbb.CreateString("test");
  auto env = schema::CreateCommandEnvelope(fbb, &id, 1, 2, issuer, 1,
                                           schema::CommandPayload::RegistryCommand, reg.Union());
  schema::FinishCommandEnvelopeBuffer(fbb, env);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::string read_error(const std::vector<std::uint8_t>& bytes) {
  auto env = codec::verify_command(bytes);
  REQUIRE(env.has_value());
  auto info = codec::read_command(**env);
  REQUIRE_FALSE(info.has_value());
  CHECK(info.error().code == Error::Code::kInvalidInput);
  return info.error().message;
}

boost::json::object parsed(const std::string& text) {
  auto v = boost::json::parse(text);  // throws on anything that is not one JSON document
  REQUIRE(v.is_object());
  return v.as_object();
}

}  // namespace

TEST_CASE("registry commands of every operation and value type survive build, verify and read") {
  const std::vector<RegistrySpec> specs = {
      {.op = RegistryOperation::List, .hive = RegistryHive::HKCU, .key = ""},
      {.op = RegistryOperation::Get, .hive = RegistryHive::HKU, .key = "S-1-5-18\\X", .name = ""},
      {.op = RegistryOperation::DeleteValue, .hive = RegistryHive::HKCR, .key = "a", .name = "b"},
      {.op = RegistryOperation::CreateKey, .hive = RegistryHive::HKCC, .key = "a\\b\\c"},
      {.op = RegistryOperation::DeleteKey, .hive = RegistryHive::HKLM, .key = "a"},
      set_spec({.type = RegistryValueType::String, .text = "h\xC3\xA9llo"}),
      set_spec({.type = RegistryValueType::ExpandString, .text = "%SystemRoot%\\x"}),
      set_spec({.type = RegistryValueType::MultiString, .strings = {"one", "two"}}),
      set_spec({.type = RegistryValueType::MultiString}),
      set_spec({.type = RegistryValueType::Dword, .number = 0xFFFFFFFFULL}),
      set_spec({.type = RegistryValueType::Qword, .number = 0xFFFFFFFFFFFFFFFFULL}),
      set_spec({.type = RegistryValueType::Binary, .bytes = {0, 1, 0xFE, 0xFF}}),
      set_spec({.type = RegistryValueType::Binary}),
      set_spec({.type = RegistryValueType::Other, .bytes = {7}, .raw_type = 0}),
  };
  for (const auto& spec : specs) {
    CAPTURE(codec::registry_target(spec));
    auto back = round_trip(spec);
    REQUIRE_MESSAGE(back.has_value(), (back ? "" : back.error().message));
    REQUIRE(std::holds_alternative<RegistrySpec>(back->action));
    CHECK(std::get<RegistrySpec>(back->action) == spec);
    CHECK(codec::command_kind(back->action) == "registry");
  }
  auto cmd = round_trip(codec::CmdSpec{"echo hi\r\nexit /b 3"});
  REQUIRE(cmd.has_value());
  CHECK(std::get<codec::CmdSpec>(cmd->action).script == "echo hi\r\nexit /b 3");
  CHECK(codec::command_kind(cmd->action) == "cmd");
  // A value given to anything but set is not sent.
  RegistrySpec get{.op = RegistryOperation::Get, .key = "k", .name = "n"};
  get.value.text = "ignored";
  auto read = round_trip(get);
  REQUIRE(read.has_value());
  CHECK(std::get<RegistrySpec>(read->action).value == RegistryValueSpec{});
}

TEST_CASE("registry commands this build cannot know are refused with the reason") {
  const auto list_bytes = raw_registry_command(0, 0, std::nullopt);
  auto list = codec::verify_command(list_bytes);
  REQUIRE(list.has_value());
  REQUIRE(codec::read_command(**list).has_value());  // the shape itself is fine
  CHECK(read_error(raw_registry_command(6, 0, std::nullopt)) == "unknown registry operation 6");
  CHECK(read_error(raw_registry_command(0, 5, std::nullopt)) == "unknown registry hive 5");
  CHECK(read_error(raw_registry_command(2, 0, 7)) == "unknown registry value type 7");
  CHECK(read_error(raw_registry_command(2, 0, std::nullopt)) == "a registry set without a value");

  // The Verifier runs before anything is read: a cut or damaged buffer is refused.
  auto good = codec::build_command(action_command(
      set_spec({.type = RegistryValueType::MultiString, .strings = {"a", "b", "c"}})));
  REQUIRE(codec::verify_command(good).has_value());
  for (std::size_t keep : {good.size() / 2, std::size_t{16}}) {
    CAPTURE(keep);
    std::vector<std::uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(keep));
    CHECK_FALSE(codec::verify_command(cut).has_value());
  }
  auto damaged = good;
  damaged[0] = 0xFF;  // the root offset points outside the buffer
  damaged[1] = 0xFF;
  CHECK_FALSE(codec::verify_command(damaged).has_value());
}

TEST_CASE("registry checks: key paths, names per operation, values per type") {
  auto error_of = [](const RegistrySpec& spec) {
    auto s = codec::check_registry_spec(spec);
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == Error::Code::kInvalidInput);
    return s.error().message;
  };
  CHECK(codec::check_registry_spec({.op = RegistryOperation::List, .key = ""}).has_value());
  CHECK(codec::check_registry_spec({.op = RegistryOperation::Get, .key = "a/b\\c", .name = ""})
            .has_value());
  CHECK(error_of({.op = RegistryOperation::List, .key = "\\Software"}).find("empty part") !=
        std::string::npos);
  CHECK(error_of({.op = RegistryOperation::List, .key = "Software\\\\X"}).find("empty part") !=
        std::string::npos);
  CHECK(error_of({.op = RegistryOperation::List, .key = "Software\\"}).find("empty part") !=
        std::string::npos);
  CHECK(error_of({.op = RegistryOperation::List, .key = std::string(256 * 3, 'k')}).find("255") !=
        std::string::npos);
  CHECK(error_of({.op = RegistryOperation::DeleteKey, .key = ""}) ==
        "delete_key needs a key below the hive");
  CHECK(error_of({.op = RegistryOperation::CreateKey, .key = ""}) ==
        "create_key needs a key below the hive");
  CHECK(error_of({.op = RegistryOperation::List, .key = "a", .name = "x"}) ==
        "a value name does not apply to list");
  CHECK(error_of({.op = RegistryOperation::Get, .key = "a", .name = std::string("x\0y", 3)})
            .find("NUL") != std::string::npos);
  CHECK(error_of(set_spec({.type = RegistryValueType::Dword, .number = 0x100000000ULL})) ==
        "a dword is at most 4294967295");
  CHECK(error_of(set_spec({.type = RegistryValueType::MultiString, .strings = {"a", ""}})) ==
        "a multi_string cannot hold an empty string");
  CHECK(error_of(set_spec({.type = RegistryValueType::String, .text = std::string("a\0b", 3)}))
            .find("NUL") != std::string::npos);
  CHECK(error_of(set_spec({.type = RegistryValueType::Binary,
                           .bytes = std::vector<std::uint8_t>(codec::kMaxRegistryDataBytes + 1)}))
            .find("larger than") != std::string::npos);
  CHECK(error_of({.op = static_cast<RegistryOperation>(9)}) == "unknown registry operation");

  CHECK(codec::registry_target(set_spec({})) == "HKLM\\Software\\GuruRMM\\Name");
  CHECK(codec::registry_target({.op = RegistryOperation::DeleteValue, .key = "K", .name = ""}) ==
        "HKLM\\K\\(Default)");
  CHECK(codec::registry_target({.op = RegistryOperation::List, .hive = RegistryHive::HKCU}) ==
        "HKCU");
  CHECK(codec::registry_target({.op = RegistryOperation::CreateKey, .key = "A\\B"}) ==
        "HKLM\\A\\B");
}

TEST_CASE("registry names: operations, hives (short and long, any case) and value types") {
  CHECK(codec::parse_registry_op("delete_value") == RegistryOperation::DeleteValue);
  CHECK(codec::registry_op_name(RegistryOperation::CreateKey) == "create_key");
  CHECK(codec::parse_registry_hive("hkey_local_machine") == RegistryHive::HKLM);
  CHECK(codec::parse_registry_hive("hkcu") == RegistryHive::HKCU);
  CHECK(codec::registry_hive_name(RegistryHive::HKCC) == "HKCC");
  CHECK(codec::parse_registry_type("expand_string") == RegistryValueType::ExpandString);
  CHECK(codec::registry_type_name(RegistryValueType::Qword) == "qword");
  auto bad_hive = codec::parse_registry_hive("HKEY_PERFORMANCE_DATA");
  REQUIRE_FALSE(bad_hive.has_value());
  CHECK(bad_hive.error().message.find("HKLM, HKCU, HKU, HKCR, HKCC") != std::string::npos);
  CHECK_FALSE(codec::parse_registry_type("DWORD").has_value());
  CHECK_FALSE(codec::parse_registry_op("remove").has_value());
  CHECK(codec::registry_hive_name(static_cast<RegistryHive>(200)) == "unknown");
  // The platform layer spells hives the same way.
  CHECK(platform::parse_registry_hive("HKEY_USERS") == platform::RegistryHive::kUsers);
  CHECK(platform::registry_hive_name(platform::RegistryHive::kClassesRoot) == "HKCR");
}

TEST_CASE("registry answers: one JSON document per operation, data by type") {
  using platform::RegistryType;
  platform::RegistryKeyListing listing;
  listing.subkeys = {"Sub A", "Sub\xC3\xA9"};
  listing.values = {
      {"", {.type = RegistryType::kString, .text = "default \"quoted\"\n"}},
      {"expand", {.type = RegistryType::kExpandString, .text = "%TEMP%"}},
      {"multi", {.type = RegistryType::kMultiString, .strings = {"one", "two"}}},
      {"dword", {.type = RegistryType::kDword, .number = 4294967295ULL}},
      {"qword", {.type = RegistryType::kQword, .number = 18446744073709551615ULL}},
      {"binary", {.type = RegistryType::kBinary, .bytes = {0x00, 0x0A, 0xFF}}},
      {"none", {.type = RegistryType::kOther, .bytes = {1}, .raw_type = 0}},
  };
  RegistrySpec spec{.op = RegistryOperation::List, .hive = RegistryHive::HKLM, .key = "Software"};
  auto doc = parsed(agent::registry_listing_json(spec, listing, 1 << 20));
  CHECK(doc.at("hive").as_string() == "HKLM");
  CHECK(doc.at("key").as_string() == "Software");
  CHECK(doc.at("truncated").as_bool() == false);
  REQUIRE(doc.at("subkeys").as_array().size() == 2);
  CHECK(doc.at("subkeys").as_array()[1].as_string() == "Sub\xC3\xA9");
  const auto& values = doc.at("values").as_array();
  REQUIRE(values.size() == 7);
  auto value = [&](std::size_t i) { return values[i].as_object(); };
  CHECK(value(0).at("name").as_string() == "");
  CHECK(value(0).at("type").as_string() == "string");
  CHECK(value(0).at("data").as_string() == "default \"quoted\"\n");
  CHECK(value(1).at("type").as_string() == "expand_string");
  CHECK(value(2).at("type").as_string() == "multi_string");
  CHECK(value(2).at("data").as_array().size() == 2);
  CHECK(value(3).at("type").as_string() == "dword");
  CHECK(value(3).at("data").to_number<std::uint64_t>() == 4294967295ULL);
  CHECK(value(4).at("type").as_string() == "qword");
  CHECK(value(4).at("data").as_string() == "18446744073709551615");
  CHECK(value(5).at("type").as_string() == "binary");
  CHECK(value(5).at("data").as_string() == "000aff");
  CHECK(value(6).at("type").as_string() == "other");
  CHECK(value(6).at("raw_type").to_number<int>() == 0);
  CHECK(value(6).at("data").as_string() == "01");
  CHECK_FALSE(value(5).contains("data_truncated"));

  RegistrySpec get{.op = RegistryOperation::Get, .key = "Software", .name = "dword"};
  auto one = parsed(agent::registry_value_json(get, listing.values[3].value));
  CHECK(one.at("name").as_string() == "dword");
  CHECK(one.at("data").to_number<std::uint64_t>() == 4294967295ULL);
  CHECK_FALSE(one.contains("done"));

  auto set = set_spec({.type = RegistryValueType::Dword, .number = 7});
  platform::RegistryValue seven{.type = RegistryType::kDword, .number = 7};
  auto done = parsed(agent::registry_done_json(set, &seven));
  CHECK(done.at("done").as_bool());
  CHECK(done.at("operation").as_string() == "set");
  CHECK(done.at("key").as_string() == "Software\\GuruRMM");
  CHECK(done.at("name").as_string() == "Name");
  CHECK(done.at("data").to_number<int>() == 7);
  auto deleted = parsed(agent::registry_done_json(
      {.op = RegistryOperation::DeleteKey, .hive = RegistryHive::HKCU, .key = "K"}, nullptr));
  CHECK(deleted.at("operation").as_string() == "delete_key");
  CHECK(deleted.at("hive").as_string() == "HKCU");
  CHECK_FALSE(deleted.contains("name"));
}

TEST_CASE("a listing stays one parseable document within the output cap") {
  using platform::RegistryType;
  platform::RegistryKeyListing listing;
  for (int i = 0; i < 500; ++i) listing.subkeys.push_back(fmt::format("key-{:04}", i));
  listing.values.push_back(
      {"big", {.type = RegistryType::kBinary, .bytes = std::vector<std::uint8_t>(100'000, 0xAB)}});
  listing.values.push_back(
      {"long", {.type = RegistryType::kString, .text = std::string(5000, 'x')}});
  RegistrySpec spec{.op = RegistryOperation::List, .key = "K"};

  auto whole = parsed(agent::registry_listing_json(spec, listing, 1 << 20));
  CHECK(whole.at("truncated").as_bool() == false);
  CHECK(whole.at("subkeys").as_array().size() == 500);
  const auto big = whole.at("values").as_array()[0].as_object();
  CHECK(big.at("data_truncated").as_bool());
  CHECK(big.at("data").as_string().size() == agent::kListedDataBytes);
  CHECK(whole.at("values").as_array()[1].as_object().at("data").as_string().size() ==
        agent::kListedDataBytes);

  for (std::size_t cap : {std::size_t{4000}, std::size_t{2500}, std::size_t{100}}) {
    CAPTURE(cap);
    auto text = agent::registry_listing_json(spec, listing, cap);
    auto doc = parsed(text);
    CHECK(doc.at("truncated").as_bool());
    CHECK(text.size() <= cap);
  }
  // Listed by the backend as cut (past kMaxRegistryEntries): said so even when all fits.
  listing.truncated = true;
  CHECK(parsed(agent::registry_listing_json(spec, listing, 1 << 20)).at("truncated").as_bool());
}

TEST_CASE("off Windows the registry action fails with the platform's reason") {
  auto r = agent::run_registry_action({.op = RegistryOperation::List, .key = "Software"}, 1 << 20);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Error::Code::kNotSupported);
  CHECK(r.error().message.find("Windows only") != std::string::npos);
  // Checked before the platform is asked.
  auto bad = agent::run_registry_action({.op = RegistryOperation::DeleteKey, .key = ""}, 1 << 20);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == Error::Code::kInvalidInput);
}
