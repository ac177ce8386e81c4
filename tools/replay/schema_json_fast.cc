// The compiled JSON printer: the same text as the reference walker in schema_json.cc, with the
// reflection schema walked once at load into per-object field ops (see FastField) so printing an
// event reads only the event's own vtables, and written through a raw cursor (JsonWriter) that
// reserves room per field instead of checking capacity per byte. Still schema-driven: the ops
// come from events.bfbs.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "tools/replay/flatbuffer_scalars.h"
#include "tools/replay/json_writer.h"
#include "tools/replay/schema_json.h"

namespace rmm::replay {

namespace {

using detail::kHex;
using detail::read_int;
using detail::scalar_size;
using reflection::BaseType;

// Enum values past this get no dense slot (the reference lookup still names them).
constexpr std::int64_t kMaxDenseEnum = 4096;

const std::uint8_t* deref(const std::uint8_t* p) {
  return p + flatbuffers::ReadScalar<flatbuffers::uoffset_t>(p);
}

}  // namespace

void SchemaJson::build_fast_plans() {
  const auto* enums = schema_->enums();
  fast_enums_.resize(enums->size());
  for (flatbuffers::uoffset_t i = 0; i < enums->size(); ++i) {
    auto& fe = fast_enums_[i];
    for (const auto* v : *enums->Get(i)->values()) {
      if (v->value() < 0 || v->value() >= kMaxDenseEnum) continue;
      auto slot = static_cast<std::size_t>(v->value());
      if (fe.dense.size() <= slot) {
        fe.dense.resize(slot + 1);
        fe.dense_objects.resize(slot + 1, -1);
      }
      append_json_string(v->name()->string_view(), fe.dense[slot]);
      const auto* ut = v->union_type();
      fe.dense_objects[slot] = ut != nullptr && ut->base_type() == BaseType::Obj ? ut->index() : -1;
    }
  }
  fast_objects_.resize(objects_.size());
  for (std::size_t o = 0; o < objects_.size(); ++o) {
    if (objects_[o].is_struct) continue;  // structs print through append_struct
    for (const auto& plan : objects_[o].fields) {
      const reflection::Field& f = *plan.field;
      const reflection::Type& type = *f.type();
      BaseType bt = type.base_type();
      FastField ff;
      ff.voffset = f.offset();
      if (!fast_objects_[o].fields.empty()) ff.key.push_back(',');
      ff.key.append(plan.key);
      ff.absent = "null";
      ff.scalar = bt;
      if (detail::is_scalar(bt)) {
        ff.enum_index = type.index();
        if (bt == BaseType::Bool) {
          ff.kind = Kind::kBool;
        } else if (bt == BaseType::Float) {
          ff.kind = Kind::kFloat;
        } else if (bt == BaseType::Double) {
          ff.kind = Kind::kDouble;
        } else if (type.index() >= 0) {
          ff.kind = Kind::kEnum;
        } else {
          ff.kind = bt == BaseType::ULong ? Kind::kUInt64 : Kind::kInt;
        }
        // The absent text, by the reference walker's own rules (append_field).
        ff.absent.clear();
        if (bt == BaseType::Float || bt == BaseType::Double) {
          append_double(f.default_real(), ff.absent);
        } else if (bt == BaseType::Bool) {
          ff.absent = f.default_integer() != 0 ? "true" : "false";
        } else if (auto name = type.index() >= 0 ? enum_name(type.index(), f.default_integer())
                                                 : std::string_view{};
                   !name.empty()) {
          append_json_string(name, ff.absent);
        } else {
          append_int(f.default_integer(), ff.absent);
        }
      } else if (bt == BaseType::String) {
        ff.kind = Kind::kString;
      } else if (bt == BaseType::Obj) {
        ff.object = type.index();
        const auto& target = objects_[static_cast<std::size_t>(type.index())];
        ff.kind = !target.is_struct ? Kind::kTable : target.is_uuid ? Kind::kUuid : Kind::kStruct;
      } else if (bt == BaseType::Union) {
        ff.kind = Kind::kUnion;
        ff.object = type.index();
        ff.type_voffset = plan.union_type != nullptr ? plan.union_type->offset() : 0;
      } else if (bt == BaseType::Vector) {
        BaseType et = type.element();
        ff.scalar = et;
        ff.enum_index = type.index();
        ff.object = type.index();
        if (et == BaseType::UByte && type.index() < 0) {
          ff.kind = Kind::kBase64;
        } else if (detail::is_scalar(et)) {
          ff.kind = Kind::kVecScalar;
          ff.elem_size = static_cast<std::uint32_t>(scalar_size(et));
        } else if (et == BaseType::String) {
          ff.kind = Kind::kVecString;
        } else if (et == BaseType::Obj && object(type.index()).is_struct()) {
          ff.kind = Kind::kVecStruct;
          ff.elem_size = static_cast<std::uint32_t>(object(type.index()).bytesize());
        } else if (et == BaseType::Obj) {
          ff.kind = Kind::kVecTable;
        } else {
          ff.kind = Kind::kVecNull;
        }
      }
      // The key, then any fixed-width value: a number (to_chars needs at most 24), a UUID (38),
      // true/false, null, or the absent text. Strings, lists and tables reserve their own.
      ff.room =
          std::max(ff.key.size(), ff.key32.size()) + std::max<std::size_t>(ff.absent.size(), 40);
      if (ff.key.size() <= ff.key32.size())
        std::copy(ff.key.begin(), ff.key.end(), ff.key32.begin());
      fast_objects_[o].fields.push_back(std::move(ff));
    }
  }
}

void SchemaJson::append_root(const std::uint8_t* buffer, std::string& out) const {
  JsonWriter w(out);
  fast_table(root_, deref(buffer), w);
}

void SchemaJson::fast_table(int object, const std::uint8_t* table, JsonWriter& out) const {
  const std::uint8_t* vtable = table - flatbuffers::ReadScalar<flatbuffers::soffset_t>(table);
  auto vsize = flatbuffers::ReadScalar<flatbuffers::voffset_t>(vtable);
  out.need(1);
  out.put('{');
  for (const auto& f : fast_objects_[static_cast<std::size_t>(object)].fields) {
    out.need(f.room);
    if (f.key.size() <= f.key32.size()) {
      out.put_padded(f.key32, f.key.size());
    } else {
      out.put(f.key);
    }
    fast_field(f, table, vtable, vsize, out);
  }
  out.need(1);
  out.put('}');
}

void SchemaJson::fast_field(const FastField& f, const std::uint8_t* table,
                            const std::uint8_t* vtable, flatbuffers::voffset_t vsize,
                            JsonWriter& out) const {
  auto field_offset = [&](flatbuffers::voffset_t vo) -> flatbuffers::voffset_t {
    return vo < vsize ? flatbuffers::ReadScalar<flatbuffers::voffset_t>(vtable + vo) : 0;
  };
  flatbuffers::voffset_t fo = field_offset(f.voffset);
  if (fo == 0) {
    out.put(f.absent);
    return;
  }
  const std::uint8_t* p = table + fo;
  switch (f.kind) {
    case Kind::kBool:
      out.put(*p != 0 ? std::string_view("true") : std::string_view("false"));
      return;
    case Kind::kInt:
      out.number(read_int(f.scalar, p));
      return;
    case Kind::kUInt64:
      out.number(flatbuffers::ReadScalar<std::uint64_t>(p));
      return;
    case Kind::kEnum:
      fast_enum(f.enum_index, read_int(f.scalar, p), f.scalar, p, out);
      return;
    case Kind::kFloat:
      put_real(flatbuffers::ReadScalar<float>(p), out);
      return;
    case Kind::kDouble:
      put_real(flatbuffers::ReadScalar<double>(p), out);
      return;
    case Kind::kString: {
      const auto* s = reinterpret_cast<const flatbuffers::String*>(deref(p));
      put_json_string(s->string_view(), out);
      return;
    }
    case Kind::kTable:
      fast_table(f.object, deref(p), out);
      return;
    case Kind::kUuid: {
      char*& c = out.cursor();
      *c++ = '"';
      for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *c++ = '-';
        *c++ = kHex[p[i] >> 4];
        *c++ = kHex[p[i] & 15];
      }
      *c++ = '"';
      return;
    }
    case Kind::kStruct:
      append_struct(f.object, p, out.string());
      out.open();
      return;
    case Kind::kUnion: {
      flatbuffers::voffset_t to = f.type_voffset != 0 ? field_offset(f.type_voffset) : 0;
      std::int64_t member = to != 0 ? table[to] : 0;
      const auto& e = fast_enums_[static_cast<std::size_t>(f.object)];
      int obj = static_cast<std::size_t>(member) < e.dense_objects.size()
                    ? e.dense_objects[static_cast<std::size_t>(member)]
                    : union_object(f.object, member);
      if (obj < 0) {
        out.put("null");
      } else {
        fast_table(obj, deref(p), out);
      }
      return;
    }
    case Kind::kBase64:
    case Kind::kVecScalar:
    case Kind::kVecString:
    case Kind::kVecStruct:
    case Kind::kVecTable:
    case Kind::kVecNull:
      fast_vector(f, deref(p), out);
      return;
    case Kind::kNull:
      out.put("null");
      return;
  }
}

void SchemaJson::fast_vector(const FastField& f, const std::uint8_t* vec, JsonWriter& out) const {
  auto n = flatbuffers::ReadScalar<flatbuffers::uoffset_t>(vec);
  const std::uint8_t* data = vec + sizeof(flatbuffers::uoffset_t);
  if (f.kind == Kind::kBase64) {
    std::string& s = out.string();
    s.push_back('"');
    append_base64({data, n}, s);
    s.push_back('"');
    out.open();
    return;
  }
  out.need(1);
  out.put('[');
  for (flatbuffers::uoffset_t i = 0; i < n; ++i) {
    // A separator and any fixed-width element (a number, true/false, null).
    out.need(48);
    if (i > 0) out.put(',');
    switch (f.kind) {
      case Kind::kVecScalar:
        fast_scalar(f.scalar, f.enum_index, data + std::size_t{i} * f.elem_size, out);
        break;
      case Kind::kVecString: {
        const auto* s = reinterpret_cast<const flatbuffers::String*>(deref(data + i * 4));
        put_json_string(s->string_view(), out);
        break;
      }
      case Kind::kVecStruct:
        append_struct(f.object, data + std::size_t{i} * f.elem_size, out.string());
        out.open();
        break;
      case Kind::kVecTable:
        fast_table(f.object, deref(data + i * 4), out);
        break;
      default:
        out.put("null");
    }
  }
  out.need(1);
  out.put(']');
}

void SchemaJson::fast_scalar(BaseType type, int enum_index, const std::uint8_t* p,
                             JsonWriter& out) const {
  switch (type) {
    case BaseType::Float:
      put_real(flatbuffers::ReadScalar<float>(p), out);
      return;
    case BaseType::Double:
      put_real(flatbuffers::ReadScalar<double>(p), out);
      return;
    case BaseType::Bool:
      out.put(*p != 0 ? std::string_view("true") : std::string_view("false"));
      return;
    default:
      break;
  }
  std::int64_t v = read_int(type, p);
  if (enum_index >= 0) {
    fast_enum(enum_index, v, type, p, out);
  } else if (type == BaseType::ULong) {
    out.number(flatbuffers::ReadScalar<std::uint64_t>(p));
  } else {
    out.number(v);
  }
}

void SchemaJson::fast_enum(int enum_index, std::int64_t value, BaseType type, const std::uint8_t* p,
                           JsonWriter& out) const {
  const auto& e = fast_enums_[static_cast<std::size_t>(enum_index)];
  if (value >= 0 && static_cast<std::size_t>(value) < e.dense.size() &&
      !e.dense[static_cast<std::size_t>(value)].empty()) {
    const std::string& literal = e.dense[static_cast<std::size_t>(value)];
    out.need(literal.size());
    out.put(literal);
    return;
  }
  if (auto name = enum_name(enum_index, value); !name.empty()) {
    put_json_string(name, out);
  } else if (type == BaseType::ULong) {
    out.number(flatbuffers::ReadScalar<std::uint64_t>(p));
  } else {
    out.number(value);
  }
}

}  // namespace rmm::replay
