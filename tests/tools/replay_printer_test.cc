// rmm-replay's compiled JSON printer against the reference reflection walker: for every payload
// type of the Envelope union, envelopes generated from the schema itself (every field present,
// alternate fields absent, strings needing escapes, unknown enum values, NaN, big unsigned
// numbers) must print byte-identical text, and the text must be valid JSON.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/event_codec.h"
#include "tools/replay/embedded_schema.h"
#include "tools/replay/flatbuffer_scalars.h"
#include "tools/replay/record_format.h"
#include "tools/replay/schema_json.h"

using namespace rmm;
using reflection::BaseType;

namespace {

// Builds tables of any object from the reflection schema. `absent_parity`: fields whose id has
// this parity are left out (-1: every field present). Recursion stops at depth 3.
class Generator {
 public:
  Generator(const reflection::Schema& schema, int absent_parity, bool odd_values)
      : schema_(schema), absent_parity_(absent_parity), odd_(odd_values) {}

  flatbuffers::Offset<void> table(flatbuffers::FlatBufferBuilder& fbb, int object, int depth,
                                  int union_member = -1) {
    const auto* obj = schema_.objects()->Get(static_cast<flatbuffers::uoffset_t>(object));
    // Offsets (strings, vectors, sub-tables) must be built before the table starts.
    std::vector<std::pair<const reflection::Field*, flatbuffers::uoffset_t>> offsets;
    std::vector<std::pair<const reflection::Field*, std::int64_t>> union_types;
    for (const auto* f : *obj->fields()) {
      if (skip(*f)) continue;
      BaseType bt = f->type()->base_type();
      if (bt == BaseType::String) {
        offsets.emplace_back(f, fbb.CreateString(text(f->id())).o);
      } else if (bt == BaseType::Obj && !is_struct(f->type()->index())) {
        if (depth < 3) offsets.emplace_back(f, table(fbb, f->type()->index(), depth + 1).o);
      } else if (bt == BaseType::Vector) {
        if (auto o = vector(fbb, *f->type(), depth); o != 0) offsets.emplace_back(f, o);
      } else if (bt == BaseType::Union) {
        auto [member, obj_index] = pick_member(f->type()->index(), union_member);
        if (obj_index >= 0 && depth < 3) {
          offsets.emplace_back(f, table(fbb, obj_index, depth + 1).o);
          union_types.emplace_back(f, member);
        }
      }
    }
    auto start = fbb.StartTable();
    for (const auto& [f, o] : offsets) fbb.AddOffset(f->offset(), flatbuffers::Offset<void>(o));
    for (const auto* f : *obj->fields()) {
      if (skip(*f)) continue;
      BaseType bt = f->type()->base_type();
      if (bt == BaseType::Obj && is_struct(f->type()->index())) {
        const auto* s = schema_.objects()->Get(f->type()->index());
        std::vector<std::uint8_t> bytes(s->bytesize());
        for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 17);
        fbb.Align(static_cast<std::size_t>(s->minalign()));
        fbb.PushBytes(bytes.data(), bytes.size());
        fbb.AddStructOffset(f->offset(), fbb.GetSize());
      } else if (bt == BaseType::UType) {
        std::int64_t member = 0;
        std::string value_field = f->name()->str();
        value_field.resize(value_field.size() - 5);  // "<name>_type"
        for (const auto& [uf, m] : union_types) {
          if (uf->name()->str() == value_field) member = m;
        }
        if (member != 0)
          fbb.AddElement<std::uint8_t>(f->offset(), static_cast<std::uint8_t>(member));
      } else if (bt >= BaseType::Bool && bt <= BaseType::Double) {
        scalar(fbb, *f);
      }
    }
    return flatbuffers::Offset<void>(fbb.EndTable(start));
  }

 private:
  bool is_struct(int index) const {
    return schema_.objects()->Get(static_cast<flatbuffers::uoffset_t>(index))->is_struct();
  }
  bool skip(const reflection::Field& f) const {
    if (f.deprecated()) return true;
    // Union type fields follow their union: never skipped on their own.
    if (f.type()->base_type() == BaseType::UType) return false;
    return absent_parity_ >= 0 && f.id() % 2 == absent_parity_;
  }
  std::string text(int salt) const {
    std::string s = odd_ ? "quote\" back\\slash\nnew\ttab\x01\x1f é ✓ " : "plain ";
    s += std::to_string(salt);
    return s;
  }
  std::pair<std::int64_t, int> pick_member(int enum_index, int wanted) const {
    const auto* e = schema_.enums()->Get(static_cast<flatbuffers::uoffset_t>(enum_index));
    for (const auto* v : *e->values()) {
      const auto* ut = v->union_type();
      if (ut == nullptr || ut->base_type() != BaseType::Obj) continue;
      if (wanted < 0 || v->value() == wanted) return {v->value(), ut->index()};
    }
    return {0, -1};
  }
  // A value of an enum: a declared one, or (odd values) one the schema does not know.
  std::int64_t enum_value(int enum_index) const {
    const auto* e = schema_.enums()->Get(static_cast<flatbuffers::uoffset_t>(enum_index));
    if (odd_) return 97;
    return e->values()->Get(e->values()->size() > 1 ? 1 : 0)->value();
  }
  // Fractions, whole numbers on both sides of the printer's integer path (|v| < 100,000), -0.
  static float float_value(int id) {
    switch (id % 4) {
      case 0:
        return 0.1f * static_cast<float>(id);
      case 1:
        return static_cast<float>(id * 25'000);
      case 2:
        return -static_cast<float>(id * 7);
      default:
        return id % 8 == 3 ? -0.0f : 1e6f;
    }
  }
  void scalar(flatbuffers::FlatBufferBuilder& fbb, const reflection::Field& f) {
    BaseType bt = f.type()->base_type();
    auto o = f.offset();
    std::int64_t i = f.type()->index() >= 0 ? enum_value(f.type()->index())
                                            : (odd_ ? -(f.id() * 1000 + 7) : f.id() * 12345 + 3);
    // force_defaults is on: every present field is stored, defaults included.
    switch (bt) {
      case BaseType::Bool:
        fbb.AddElement<std::uint8_t>(o, odd_ ? 0 : 1, 2);
        break;
      case BaseType::Byte:
        fbb.AddElement<std::int8_t>(o, static_cast<std::int8_t>(i), 0);
        break;
      case BaseType::UByte:
        fbb.AddElement<std::uint8_t>(o, static_cast<std::uint8_t>(i), 0);
        break;
      case BaseType::Short:
        fbb.AddElement<std::int16_t>(o, static_cast<std::int16_t>(i), 0);
        break;
      case BaseType::UShort:
        fbb.AddElement<std::uint16_t>(o, static_cast<std::uint16_t>(i), 0);
        break;
      case BaseType::Int:
        fbb.AddElement<std::int32_t>(o, static_cast<std::int32_t>(i), 0);
        break;
      case BaseType::UInt:
        fbb.AddElement<std::uint32_t>(o, static_cast<std::uint32_t>(i) | 0x80000000u, 0);
        break;
      case BaseType::Long:
        fbb.AddElement<std::int64_t>(o, i * 1'000'000'007, 0);
        break;
      case BaseType::ULong:
        fbb.AddElement<std::uint64_t>(
            o, odd_ ? std::numeric_limits<std::uint64_t>::max() - 5 : static_cast<std::uint64_t>(i),
            0);
        break;
      case BaseType::Float:
        fbb.AddElement<float>(o, odd_ ? std::nanf("") : float_value(f.id()), 1.5f);
        break;
      case BaseType::Double:
        fbb.AddElement<double>(o, odd_ ? -std::numeric_limits<double>::infinity() : 1e-7 * f.id(),
                               1.5);
        break;
      default:
        break;
    }
  }
  flatbuffers::uoffset_t vector(flatbuffers::FlatBufferBuilder& fbb, const reflection::Type& type,
                                int depth) {
    BaseType et = type.element();
    if (et == BaseType::String) {
      std::vector<flatbuffers::Offset<flatbuffers::String>> v{fbb.CreateString(text(1)),
                                                              fbb.CreateString(text(2))};
      return fbb.CreateVector(v).o;
    }
    if (et == BaseType::Obj && !is_struct(type.index())) {
      if (depth >= 3) return 0;
      std::vector<flatbuffers::Offset<void>> v{table(fbb, type.index(), depth + 1),
                                               table(fbb, type.index(), depth + 1)};
      return fbb.CreateVector(v).o;
    }
    std::size_t size = et == BaseType::Obj
                           ? schema_.objects()->Get(type.index())->bytesize()
                           : flatbuffers::GetTypeSizeInline(et, type.index(), schema_);
    std::vector<std::uint8_t> bytes(size * 3);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 29 + 1);
    if (et == BaseType::Bool) bytes = {1, 0, 1};
    fbb.StartVector(3, size);
    fbb.PushBytes(bytes.data(), bytes.size());
    return fbb.EndVector(3);
  }

  const reflection::Schema& schema_;
  int absent_parity_;
  bool odd_;
};

}  // namespace

TEST_CASE("the compiled JSON printer prints what the reference walker prints, for every payload") {
  auto schema = replay::SchemaJson::load(replay::events_bfbs());
  REQUIRE(schema);
  const auto& root = schema->object(schema->root_object());
  const reflection::Field* payload = root.fields()->LookupByKey("payload");
  REQUIRE(payload != nullptr);
  const auto* payload_enum = schema->schema().enums()->Get(payload->type()->index());
  int members = 0;
  for (const auto* v : *payload_enum->values()) {
    const auto* ut = v->union_type();
    if (ut == nullptr || ut->base_type() != BaseType::Obj) continue;
    ++members;
    for (int parity : {-1, 0, 1}) {
      for (bool odd : {false, true}) {
        CAPTURE(v->name()->str());
        CAPTURE(parity);
        CAPTURE(odd);
        flatbuffers::FlatBufferBuilder fbb;
        fbb.ForceDefaults(true);
        Generator gen(schema->schema(), parity, odd);
        fbb.Finish(gen.table(fbb, schema->root_object(), 0, static_cast<int>(v->value())),
                   schema->schema().file_ident()->c_str());
        std::span<const std::uint8_t> bytes(fbb.GetBufferPointer(), fbb.GetSize());
        if (parity == -1) {
          // The envelope with its payload present passes the product's own verifier.
          REQUIRE(codec::verify_event(bytes));
        }
        std::string fast, reference;
        schema->append_root(bytes.data(), fast);
        schema->append_root_reference(bytes.data(), reference);
        REQUIRE(fast == reference);
        boost::system::error_code ec;
        auto json = boost::json::parse(fast, ec);
        REQUIRE_FALSE(ec);
        if (parity == -1) {
          CHECK(json.as_object().at("payload_type").is_string());
          CHECK(json.as_object().at("payload").is_object());
        }
      }
    }
  }
  CHECK(members >= 5);
}

TEST_CASE("a JSON line escapes its subject and carries an error line for a bad buffer") {
  auto schema = replay::SchemaJson::load(replay::events_bfbs());
  REQUIRE(schema);
  std::vector<std::uint8_t> junk{1, 2, 3, 4, 5};
  replay::Record rec{.stream_seq = 18'446'744'073'709'551'615ull,
                     .stream_time = 1'795'748'972'069'762'403,
                     .subject = "a\"b",
                     .msg_id = {},
                     .data = junk};
  std::string out;
  replay::append_jsonl(*schema, rec, nullptr, "bad \\ buffer", out);
  CHECK(out ==
        "{\"stream_seq\":18446744073709551615,\"subject\":\"a\\\"b\",\"stream_time\":"
        "\"2026-11-27T03:09:32.069762403Z\",\"event\":null,\"error\":\"bad \\\\ buffer\","
        "\"raw\":\"AQIDBAU=\"}\n");
}

TEST_CASE("JSON string escapes: every byte value at every position of a word-scanned string") {
  // The escape scan reads 8 bytes at a time; a plain byte-by-byte escaper is the reference.
  auto expected = [](std::string_view text) {
    std::string out = "\"";
    for (unsigned char c : text) {
      if (c == '"') {
        out += "\\\"";
      } else if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    return out + "\"";
  };
  int checked = 0;
  for (int value = 0; value < 256; ++value) {
    for (std::size_t pos = 0; pos < 19; ++pos) {
      std::string text(19, 'a');
      text[pos] = static_cast<char>(value);
      std::string out;
      replay::append_json_string(text, out);
      CAPTURE(value);
      CAPTURE(pos);
      REQUIRE(out == expected(text));
      ++checked;
    }
  }
  CHECK(checked == 256 * 19);
}

TEST_CASE("the printer's float shortcuts write what std::to_chars writes") {
  auto same = [](auto value) {
    char fast[40], slow[40];
    char* end = replay::detail::format_real(value, fast);
    auto r = std::to_chars(slow, slow + sizeof slow, value);
    return std::string_view(fast, end) == std::string_view(slow, r.ptr);
  };
  std::size_t checked = 0, failed = 0;
  // Every value with up to two decimals across and past the shortcut ranges, as float and double.
  for (std::int64_t k = -1'100'000; k <= 1'100'000; k += 7) {
    for (double scale : {1.0, 10.0, 100.0}) {
      double v = static_cast<double>(k) / scale;
      failed += !same(static_cast<float>(v)) + !same(v);
      checked += 2;
    }
  }
  // Arbitrary bit patterns (finite only) and the edges.
  std::uint32_t x = 12345;
  for (int i = 0; i < 200'000; ++i) {
    x = x * 1664525u + 1013904223u;
    float f;
    std::memcpy(&f, &x, sizeof f);
    if (std::isfinite(f)) {
      failed += !same(f) + !same(static_cast<double>(f));
      checked += 2;
    }
  }
  for (float f : {-0.0f, 0.0f, 99999.0f, 100000.0f, -99999.5f, 9999.99f, 10000.01f, 0.01f, 0.005f,
                  1e-7f, 0.3f, 0.1f * 3, 16777216.0f}) {
    failed += !same(f) + !same(static_cast<double>(f));
    checked += 2;
  }
  CHECK(checked > 6'000'000 / 7);
  CHECK(failed == 0);
}
