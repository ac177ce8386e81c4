#include "tools/replay/schema_json.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <ctime>

#include "tools/replay/flatbuffer_scalars.h"

namespace rmm::replay {

namespace {

using reflection::BaseType;

using detail::is_scalar;
using detail::kHex;
using detail::read_int;
using detail::scalar_size;

}  // namespace

void append_json_string(std::string_view text, std::string& out) {
  out.push_back('"');
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t start = 0;
  for (std::size_t i = detail::json_clean_prefix(text.data(), text.size()); i < text.size(); ++i) {
    unsigned char c = data[i];
    if (detail::kJsonEscape[c] == 0) continue;
    out.append(text.data() + start, i - start);
    start = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(text.data() + start, text.size() - start);
  out.push_back('"');
}

void append_base64(std::span<const std::uint8_t> bytes, std::string& out) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t v = bytes[i] << 16;
    if (rest == 2) v |= bytes[i + 1] << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
}

void append_double(double value, std::string& out) {
  if (!std::isfinite(value)) {
    out.append("null");
    return;
  }
  out.resize_and_overwrite(out.size() + 32, [size = out.size(), value](char* p, std::size_t n) {
    return static_cast<std::size_t>(std::to_chars(p + size, p + n, value).ptr - p);
  });
}

void append_float(float value, std::string& out) {
  if (!std::isfinite(value)) {
    out.append("null");
    return;
  }
  out.resize_and_overwrite(out.size() + 32, [size = out.size(), value](char* p, std::size_t n) {
    return static_cast<std::size_t>(std::to_chars(p + size, p + n, value).ptr - p);
  });
}

void append_rfc3339(std::int64_t unix_nanos, std::string& out) {
  std::int64_t secs = unix_nanos / 1'000'000'000;
  std::int64_t nanos = unix_nanos % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    secs -= 1;
  }
  // Consecutive events mostly share their second: format it once per thread.
  thread_local std::int64_t cached_secs = INT64_MIN;
  thread_local char cached[48];
  thread_local std::size_t cached_len = 0;
  if (secs != cached_secs) {
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    cached_len = std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_secs = secs;
  }
  out.append(cached, cached_len);
  out.push_back('.');
  char frac[10];
  for (int i = 8; i >= 0; --i) {
    frac[i] = static_cast<char>('0' + nanos % 10);
    nanos /= 10;
  }
  out.append(frac, 9);
  out.push_back('Z');
}

Result<SchemaJson> SchemaJson::load(std::span<const std::uint8_t> bfbs) {
  SchemaJson s;
  s.storage_ = std::make_shared<std::vector<std::uint8_t>>(bfbs.begin(), bfbs.end());
  flatbuffers::Verifier verifier(s.storage_->data(), s.storage_->size());
  if (!reflection::VerifySchemaBuffer(verifier)) return fail("the binary schema does not verify");
  s.schema_ = reflection::GetSchema(s.storage_->data());
  if (s.schema_->root_table() == nullptr) return fail("the binary schema has no root table");
  s.build_plans();
  s.build_fast_plans();
  s.root_ = s.object_index(s.schema_->root_table()->name()->string_view());
  return s;
}

int SchemaJson::object_index(std::string_view qualified_name) const {
  const auto* objects = schema_->objects();
  for (flatbuffers::uoffset_t i = 0; i < objects->size(); ++i) {
    if (objects->Get(i)->name()->string_view() == qualified_name) return static_cast<int>(i);
  }
  return -1;
}

void SchemaJson::build_plans() {
  const auto* objects = schema_->objects();
  objects_.resize(objects->size());
  for (flatbuffers::uoffset_t i = 0; i < objects->size(); ++i) {
    const auto* obj = objects->Get(i);
    auto& plan = objects_[i];
    plan.is_struct = obj->is_struct();
    std::string_view name = obj->name()->string_view();
    plan.is_uuid =
        plan.is_struct && obj->bytesize() == 16 && (name == "Uuid" || name.ends_with(".Uuid"));
    std::vector<const reflection::Field*> fields(obj->fields()->begin(), obj->fields()->end());
    std::sort(fields.begin(), fields.end(),
              [](const auto* a, const auto* b) { return a->id() < b->id(); });
    for (const auto* f : fields) {
      if (f->deprecated()) continue;
      FieldPlan fp;
      fp.field = f;
      // Built by appends: GCC 12 warns (-Wrestrict, a false positive) on literal + string at -O3.
      fp.key.push_back('"');
      fp.key.append(f->name()->string_view());
      fp.key.append("\":");
      if (f->type()->base_type() == BaseType::Union) {
        std::string type_field(f->name()->string_view());
        type_field.append("_type");
        fp.union_type = obj->fields()->LookupByKey(type_field.c_str());
      }
      plan.fields.push_back(std::move(fp));
    }
  }
  const auto* enums = schema_->enums();
  enums_.resize(enums->size());
  for (flatbuffers::uoffset_t i = 0; i < enums->size(); ++i) {
    for (const auto* v : *enums->Get(i)->values()) {
      enums_[i].names.emplace_back(v->value(), v->name()->str());
      const auto* ut = v->union_type();
      enums_[i].union_objects.push_back(
          ut != nullptr && ut->base_type() == BaseType::Obj ? ut->index() : -1);
    }
  }
}

std::string_view SchemaJson::enum_name(int enum_index, std::int64_t value) const {
  const auto& e = enums_[static_cast<std::size_t>(enum_index)];
  // Enums are mostly dense from 0: try the direct slot first.
  if (value >= 0 && static_cast<std::size_t>(value) < e.names.size() &&
      e.names[static_cast<std::size_t>(value)].first == value) {
    return e.names[static_cast<std::size_t>(value)].second;
  }
  for (const auto& [v, n] : e.names) {
    if (v == value) return n;
  }
  return {};
}

int SchemaJson::union_object(int enum_index, std::int64_t value) const {
  const auto& e = enums_[static_cast<std::size_t>(enum_index)];
  for (std::size_t i = 0; i < e.names.size(); ++i) {
    if (e.names[i].first == value) return e.union_objects[i];
  }
  return -1;
}

void SchemaJson::append_root_reference(const std::uint8_t* buffer, std::string& out) const {
  append_table(root_, *flatbuffers::GetAnyRoot(buffer), out);
}

void SchemaJson::append_scalar(BaseType type, int enum_index, const std::uint8_t* data,
                               std::string& out) const {
  if (type == BaseType::Float) {
    append_float(flatbuffers::ReadScalar<float>(data), out);
    return;
  }
  if (type == BaseType::Double) {
    append_double(flatbuffers::ReadScalar<double>(data), out);
    return;
  }
  std::int64_t v = read_int(type, data);
  if (type == BaseType::Bool) {
    out.append(v != 0 ? "true" : "false");
    return;
  }
  if (enum_index >= 0) {
    if (auto name = enum_name(enum_index, v); !name.empty()) {
      append_json_string(name, out);
      return;
    }
  }
  if (type == BaseType::ULong) {
    append_uint(flatbuffers::ReadScalar<std::uint64_t>(data), out);
  } else {
    append_int(v, out);
  }
}

void SchemaJson::append_struct(int index, const std::uint8_t* data, std::string& out) const {
  const auto& plan = objects_[static_cast<std::size_t>(index)];
  if (plan.is_uuid) {
    out.push_back('"');
    for (int i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
      out.push_back(kHex[data[i] >> 4]);
      out.push_back(kHex[data[i] & 15]);
    }
    out.push_back('"');
    return;
  }
  out.push_back('{');
  bool first = true;
  for (const auto& fp : plan.fields) {
    if (!first) out.push_back(',');
    first = false;
    out.append(fp.key);
    const auto* type = fp.field->type();
    const std::uint8_t* p = data + fp.field->offset();
    switch (type->base_type()) {
      case BaseType::Obj:
        append_struct(type->index(), p, out);
        break;
      case BaseType::Array: {
        out.push_back('[');
        BaseType et = type->element();
        std::size_t size = et == BaseType::Obj ? object(type->index()).bytesize() : scalar_size(et);
        for (std::uint16_t i = 0; i < type->fixed_length(); ++i) {
          if (i > 0) out.push_back(',');
          if (et == BaseType::Obj) {
            append_struct(type->index(), p + i * size, out);
          } else {
            append_scalar(et, type->index(), p + i * size, out);
          }
        }
        out.push_back(']');
        break;
      }
      default:
        append_scalar(type->base_type(), type->index(), p, out);
    }
  }
  out.push_back('}');
}

void SchemaJson::append_table(int object, const flatbuffers::Table& table, std::string& out) const {
  out.push_back('{');
  bool first = true;
  for (const auto& fp : objects_[static_cast<std::size_t>(object)].fields) {
    if (!first) out.push_back(',');
    first = false;
    append_field(fp, table, out);
  }
  out.push_back('}');
}

void SchemaJson::append_field(const FieldPlan& plan, const flatbuffers::Table& table,
                              std::string& out) const {
  const reflection::Field& f = *plan.field;
  const reflection::Type& type = *f.type();
  out.append(plan.key);
  BaseType bt = type.base_type();
  if (is_scalar(bt)) {
    const std::uint8_t* p = table.GetAddressOf(f.offset());
    if (p != nullptr) {
      append_scalar(bt, type.index(), p, out);
      return;
    }
    // Absent: the schema default.
    if (bt == BaseType::Float || bt == BaseType::Double) {
      append_double(f.default_real(), out);
    } else if (bt == BaseType::Bool) {
      out.append(f.default_integer() != 0 ? "true" : "false");
    } else if (auto name = type.index() >= 0 ? enum_name(type.index(), f.default_integer())
                                             : std::string_view{};
               !name.empty()) {
      append_json_string(name, out);
    } else {
      append_int(f.default_integer(), out);
    }
    return;
  }
  switch (bt) {
    case BaseType::String: {
      const auto* s = table.GetPointer<const flatbuffers::String*>(f.offset());
      if (s == nullptr) {
        out.append("null");
      } else {
        append_json_string(s->string_view(), out);
      }
      return;
    }
    case BaseType::Obj: {
      if (object(type.index()).is_struct()) {
        const std::uint8_t* p = table.GetStruct<const std::uint8_t*>(f.offset());
        if (p == nullptr) {
          out.append("null");
        } else {
          append_struct(type.index(), p, out);
        }
        return;
      }
      const auto* sub = table.GetPointer<const flatbuffers::Table*>(f.offset());
      if (sub == nullptr) {
        out.append("null");
      } else {
        append_table(type.index(), *sub, out);
      }
      return;
    }
    case BaseType::Union: {
      const auto* sub = table.GetPointer<const flatbuffers::Table*>(f.offset());
      std::int64_t member = plan.union_type != nullptr
                                ? table.GetField<std::uint8_t>(plan.union_type->offset(), 0)
                                : 0;
      int obj = union_object(type.index(), member);
      if (sub == nullptr || obj < 0) {
        out.append("null");
      } else {
        append_table(obj, *sub, out);
      }
      return;
    }
    case BaseType::Vector:
      append_vector(type, table, f, out);
      return;
    default:
      out.append("null");
      return;
  }
}

void SchemaJson::append_vector(const reflection::Type& type, const flatbuffers::Table& table,
                               const reflection::Field& field, std::string& out) const {
  const auto* vec = table.GetPointer<const flatbuffers::VectorOfAny*>(field.offset());
  if (vec == nullptr) {
    out.append("null");
    return;
  }
  BaseType et = type.element();
  const std::uint8_t* data = vec->Data();
  flatbuffers::uoffset_t n = vec->size();
  if (et == BaseType::UByte && type.index() < 0) {
    out.push_back('"');
    append_base64({data, n}, out);
    out.push_back('"');
    return;
  }
  out.push_back('[');
  for (flatbuffers::uoffset_t i = 0; i < n; ++i) {
    if (i > 0) out.push_back(',');
    if (is_scalar(et)) {
      append_scalar(et, type.index(), data + i * scalar_size(et), out);
    } else if (et == BaseType::String) {
      const std::uint8_t* elem = data + i * sizeof(flatbuffers::uoffset_t);
      const auto* s = reinterpret_cast<const flatbuffers::String*>(
          elem + flatbuffers::ReadScalar<flatbuffers::uoffset_t>(elem));
      append_json_string(s->string_view(), out);
    } else if (et == BaseType::Obj && object(type.index()).is_struct()) {
      append_struct(type.index(), data + i * object(type.index()).bytesize(), out);
    } else if (et == BaseType::Obj) {
      const std::uint8_t* elem = data + i * sizeof(flatbuffers::uoffset_t);
      const auto* t = reinterpret_cast<const flatbuffers::Table*>(
          elem + flatbuffers::ReadScalar<flatbuffers::uoffset_t>(elem));
      append_table(type.index(), *t, out);
    } else {
      out.append("null");
    }
  }
  out.push_back(']');
}

}  // namespace rmm::replay
