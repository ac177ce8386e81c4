#include "tools/replay/metrics_csv.h"

#include <algorithm>
#include <map>

#include "common/event_codec.h"
#include "common/ids.h"
#include "tools/replay/flatbuffer_scalars.h"

namespace rmm::replay {

namespace {

using reflection::BaseType;

bool is_column(const reflection::Field& f) {
  BaseType t = f.type()->base_type();
  return !f.deprecated() &&
         ((t >= BaseType::Bool && t <= BaseType::Double) || t == BaseType::String);
}

std::string_view canonical_detail(std::string_view detail) {
  static const std::map<std::string_view, std::string_view> kAliases = {
      {"interfaces", "network"}, {"sensors", "temperatures"}, {"processes", "top_processes"}};
  auto it = kAliases.find(detail);
  return it == kAliases.end() ? detail : it->second;
}

}  // namespace

void append_csv_text(std::string_view text, std::string& out) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) {
    out.append(text);
    return;
  }
  out.push_back('"');
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

Result<MetricsCsv> MetricsCsv::create(const SchemaJson& schema, std::string_view detail) {
  MetricsCsv csv(schema);
  int sample = schema.object_index("rmm.schema.MetricsSample");
  if (sample < 0) return fail("the schema has no MetricsSample");
  const reflection::Object* row = &schema.object(sample);
  if (!detail.empty()) {
    auto name = canonical_detail(detail);
    const auto* f = row->fields()->LookupByKey(std::string(name).c_str());
    if (f == nullptr || f->type()->base_type() != BaseType::Vector ||
        f->type()->element() != BaseType::Obj) {
      return failf(
          "--csv-detail {}: not a list of MetricsSample (filesystems, disks, "
          "interfaces, sensors, processes)",
          detail);
    }
    csv.detail_field_ = f;
    row = &schema.object(f->type()->index());
  }
  for (const auto* f : *row->fields()) {
    if (is_column(*f)) csv.fields_.push_back(f);
  }
  std::sort(csv.fields_.begin(), csv.fields_.end(),
            [](const auto* a, const auto* b) { return a->id() < b->id(); });
  for (const auto* f : csv.fields_) {
    Column c{.type = f->type()->base_type(),
             .voffset = f->offset(),
             .enum_index = f->type()->index(),
             .absent = {}};
    // An absent field's cell is its default, printed as a present one would be.
    if (c.type == BaseType::Float || c.type == BaseType::Double) {
      append_double(f->default_real(), c.absent);
    } else if (c.type == BaseType::Bool) {
      c.absent = f->default_integer() != 0 ? "true" : "false";
    } else if (c.type == BaseType::ULong) {
      append_uint(static_cast<std::uint64_t>(f->default_integer()), c.absent);
    } else if (c.type != BaseType::String) {
      auto name = c.enum_index >= 0 ? schema.enum_name(c.enum_index, f->default_integer())
                                    : std::string_view{};
      if (name.empty()) {
        append_int(f->default_integer(), c.absent);
      } else {
        c.absent = name;
      }
    }
    csv.columns_.push_back(std::move(c));
  }
  return csv;
}

void MetricsCsv::append_header(std::string& out) const {
  out.append("stream_seq,stream_time,agent_id,seq,occurred_at");
  for (const auto* f : fields_) {
    out.push_back(',');
    out.append(f->name()->string_view());
  }
  out.push_back('\n');
}

void MetricsCsv::append_cells(const std::uint8_t* table, std::string& out) const {
  const std::uint8_t* vtable = table - flatbuffers::ReadScalar<flatbuffers::soffset_t>(table);
  auto vsize = flatbuffers::ReadScalar<flatbuffers::voffset_t>(vtable);
  for (const auto& c : columns_) {
    out.push_back(',');
    flatbuffers::voffset_t fo =
        c.voffset < vsize ? flatbuffers::ReadScalar<flatbuffers::voffset_t>(vtable + c.voffset) : 0;
    if (fo == 0) {
      out.append(c.absent);
      continue;
    }
    const std::uint8_t* p = table + fo;
    switch (c.type) {
      case BaseType::String: {
        const auto* s = reinterpret_cast<const flatbuffers::String*>(
            p + flatbuffers::ReadScalar<flatbuffers::uoffset_t>(p));
        append_csv_text(s->string_view(), out);
        break;
      }
      case BaseType::Float:
        append_double(flatbuffers::ReadScalar<float>(p), out);
        break;
      case BaseType::Double:
        append_double(flatbuffers::ReadScalar<double>(p), out);
        break;
      case BaseType::Bool:
        out.append(*p != 0 ? "true" : "false");
        break;
      case BaseType::ULong:
        append_uint(flatbuffers::ReadScalar<std::uint64_t>(p), out);
        break;
      default: {
        std::int64_t v = detail::read_int(c.type, p);
        auto name = c.enum_index >= 0 ? schema_->enum_name(c.enum_index, v) : std::string_view{};
        if (name.empty()) {
          append_int(v, out);
        } else {
          out.append(name);
        }
      }
    }
  }
}

void MetricsCsv::append_rows(const Record& record, const schema::Envelope& envelope,
                             std::string& out) const {
  const auto* sample = envelope.payload_as_MetricsSample();
  if (sample == nullptr) return;
  // Reused per thread: no allocation per sample.
  thread_local std::string prefix;
  prefix.clear();
  append_uint(record.stream_seq, prefix);
  prefix.push_back(',');
  append_rfc3339(record.stream_time, prefix);
  prefix.push_back(',');
  prefix.append(uuid_to_string(codec::from_wire(envelope.source_id())));
  prefix.push_back(',');
  append_uint(envelope.seq(), prefix);
  prefix.push_back(',');
  append_rfc3339(envelope.occurred_at_ns(), prefix);
  // Generated tables derive privately from flatbuffers::Table and share its address.
  const auto& table = *reinterpret_cast<const flatbuffers::Table*>(sample);
  if (detail_field_ == nullptr) {
    out.append(prefix);
    append_cells(reinterpret_cast<const std::uint8_t*>(sample), out);
    out.push_back('\n');
    return;
  }
  using TableVector = flatbuffers::Vector<flatbuffers::Offset<flatbuffers::Table>>;
  const auto* vec = table.template GetPointer<const TableVector*>(detail_field_->offset());
  if (vec == nullptr) return;
  for (const auto* item : *vec) {
    out.append(prefix);
    append_cells(reinterpret_cast<const std::uint8_t*>(item), out);
    out.push_back('\n');
  }
}

}  // namespace rmm::replay
