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

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::replay {

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

  // Appends the JSON object of the root table of `buffer`.
  void append_root(const std::uint8_t* buffer, std::string& out) const;
  // Appends the JSON object of a table of object `object`.
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

  SchemaJson() = default;
  void build_plans();
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
};

// Appends `text` as a JSON string literal (quotes included).
void append_json_string(std::string_view text, std::string& out);
// Appends base64 (RFC 4648, padded) of `bytes`.
void append_base64(std::span<const std::uint8_t> bytes, std::string& out);
// Appends a number the way JSON wants it (floats shortest round-trip; NaN/inf as null).
void append_int(std::int64_t value, std::string& out);
void append_uint(std::uint64_t value, std::string& out);
void append_double(double value, std::string& out);
void append_float(float value, std::string& out);
// RFC 3339 UTC with nanoseconds: "2026-11-27T03:19:43.123456789Z".
void append_rfc3339(std::int64_t unix_nanos, std::string& out);

}  // namespace rmm::replay
