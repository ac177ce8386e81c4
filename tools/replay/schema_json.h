// JSON text of FlatBuffers tables, driven by the binary schema (.bfbs) rather than by generated
// code: a field added to schemas/*.fbs shows up in rmm-replay's output without a code change.
//
// Output shape: every non-deprecated field of a table, in declaration order; scalars absent from
// the buffer print their schema default, absent strings, tables, structs and vectors print null;
// enums print their name (the number when this schema does not know it); a union prints as its
// `<name>_type` member name and `<name>` object; the `Uuid` struct prints as canonical UUID text;
// `[ubyte]` vectors print as base64 text; NaN and infinities print as null.
//
// Concurrency: immutable after load(); append_* may run from several threads at once.
// Limitations: the buffer must have been verified (codec::verify_event) before it is printed:
// this walker trusts every offset.
#pragma once

#include <flatbuffers/flatbuffers.h>
#include <flatbuffers/reflection.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::replay {

class JsonWriter;  // schema_json_fast.cc

class SchemaJson {
 public:
  // Copies and verifies a binary schema.
  static Result<SchemaJson> load(std::span<const std::uint8_t> bfbs);

  const reflection::Schema& schema() const { return *schema_; }
  // The root table's object index (Envelope for events.bfbs).
  int root_object() const { return root_; }
  // -1 when the schema has no object of that fully qualified name ("rmm.schema.MetricsSample").
  int object_index(std::string_view qualified_name) const;
  const reflection::Object& object(int index) const { return *schema_->objects()->Get(index); }

  // Appends the JSON object of the root table of `buffer` (the compiled fast path).
  void append_root(const std::uint8_t* buffer, std::string& out) const;
  // The same text by walking the reflection schema field by field (the reference the fast path
  // is tested against).
  void append_root_reference(const std::uint8_t* buffer, std::string& out) const;
  // Appends the JSON object of a table of object `object` (reference walker).
  void append_table(int object, const flatbuffers::Table& table, std::string& out) const;
  // The name of enum value `value` of enum `enum_index`, empty when unknown.
  std::string_view enum_name(int enum_index, std::int64_t value) const;
  // The object index a union's type value selects, -1 for NONE or an unknown member.
  int union_object(int enum_index, std::int64_t value) const;

 private:
  struct FieldPlan {
    const reflection::Field* field = nullptr;
    std::string key;                                // "\"name\":"
    const reflection::Field* union_type = nullptr;  // for a union value: its `_type` field
  };
  struct ObjectPlan {
    std::vector<FieldPlan> fields;  // by id, deprecated fields left out
    bool is_struct = false;
    bool is_uuid = false;
  };
  struct EnumPlan {
    std::vector<std::pair<std::int64_t, std::string>> names;
    std::vector<int> union_objects;  // parallel to names; -1 when not a union member
  };

  // The compiled plan (schema_json_fast.cc): per object, one op per field with everything the
  // reflection walker looks up per event (vtable offset, kind, key text with its comma, the
  // absent text) resolved once at load.
  enum class Kind : std::uint8_t {
    kBool,
    kInt,
    kUInt64,
    kEnum,
    kFloat,
    kDouble,
    kString,
    kTable,
    kStruct,
    kUuid,
    kUnion,
    kBase64,
    kVecScalar,
    kVecString,
    kVecTable,
    kVecStruct,
    kVecNull,
    kNull
  };
  struct FastEnum {
    std::vector<std::string> dense;  // JSON string literal by value 0..n-1 ("" when unknown)
    std::vector<int> dense_objects;  // union member object by value (-1 for none)
  };
  struct FastField {
    Kind kind = Kind::kNull;
    reflection::BaseType scalar = reflection::BaseType::None;  // scalar or element type
    flatbuffers::voffset_t voffset = 0;
    flatbuffers::voffset_t type_voffset = 0;  // a union's `_type` field (0: none)
    int object = -1;                          // table, struct or union enum index
    int enum_index = -1;                      // enum of a scalar or of vector elements
    std::uint32_t elem_size = 0;
    std::string key;       // ",\"name\":" (no comma for the first field)
    std::string absent;    // the whole text of an absent field after the key
    std::size_t room = 0;  // bytes the key plus any fixed-width value can take
    // The key again, zero-padded: keys up to 32 bytes go out as one fixed 32-byte copy.
    std::array<char, 32> key32{};
  };
  struct FastObject {
    std::vector<FastField> fields;
  };

  SchemaJson() = default;
  void build_plans();
  void build_fast_plans();
  void fast_table(int object, const std::uint8_t* table, JsonWriter& out) const;
  void fast_field(const FastField& f, const std::uint8_t* table, const std::uint8_t* vtable,
                  flatbuffers::voffset_t vsize, JsonWriter& out) const;
  void fast_vector(const FastField& f, const std::uint8_t* vec, JsonWriter& out) const;
  void fast_scalar(reflection::BaseType type, int enum_index, const std::uint8_t* p,
                   JsonWriter& out) const;
  void fast_enum(int enum_index, std::int64_t value, reflection::BaseType type,
                 const std::uint8_t* p, JsonWriter& out) const;
  void append_struct(int index, const std::uint8_t* data, std::string& out) const;
  void append_field(const FieldPlan& plan, const flatbuffers::Table& table, std::string& out) const;
  void append_vector(const reflection::Type& type, const flatbuffers::Table& table,
                     const reflection::Field& field, std::string& out) const;
  void append_scalar(reflection::BaseType type, int enum_index, const std::uint8_t* data,
                     std::string& out) const;

  std::shared_ptr<std::vector<std::uint8_t>> storage_;
  const reflection::Schema* schema_ = nullptr;
  int root_ = -1;
  std::vector<ObjectPlan> objects_;
  std::vector<EnumPlan> enums_;
  std::vector<FastObject> fast_objects_;
  std::vector<FastEnum> fast_enums_;
};

// Appends `text` as a JSON string literal (quotes included).
void append_json_string(std::string_view text, std::string& out);
// Appends base64 (RFC 4648, padded) of `bytes`.
void append_base64(std::span<const std::uint8_t> bytes, std::string& out);
// Appends a number the way JSON wants it (floats shortest round-trip; NaN/inf as null).
// (Inline: the printer calls them for most of what it writes; written in place, no copy.)
inline void append_int(std::int64_t value, std::string& out) {
  out.resize_and_overwrite(out.size() + 20, [size = out.size(), value](char* p, std::size_t n) {
    return static_cast<std::size_t>(std::to_chars(p + size, p + n, value).ptr - p);
  });
}
inline void append_uint(std::uint64_t value, std::string& out) {
  out.resize_and_overwrite(out.size() + 20, [size = out.size(), value](char* p, std::size_t n) {
    return static_cast<std::size_t>(std::to_chars(p + size, p + n, value).ptr - p);
  });
}
void append_double(double value, std::string& out);
void append_float(float value, std::string& out);
// RFC 3339 UTC with nanoseconds: "2026-11-27T03:19:43.123456789Z".
void append_rfc3339(std::int64_t unix_nanos, std::string& out);

}  // namespace rmm::replay
