#include "tools/replay/metrics_csv.h"

#include <algorithm>
#include <map>

#include "common/event_codec.h"
#include "common/ids.h"

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
    if (is_column(*f)) csv.columns_.push_back(f);
  }
  std::sort(csv.columns_.begin(), csv.columns_.end(),
            [](const auto* a, const auto* b) { return a->id() < b->id(); });
  return csv;
}

void MetricsCsv::append_header(std::string& out) const {
  out.append("stream_seq,stream_time,agent_id,seq,occurred_at");
  for (const auto* f : columns_) {
    out.push_back(',');
    out.append(f->name()->string_view());
  }
  out.push_back('\n');
}

void MetricsCsv::append_cells(const flatbuffers::Table& table, std::string& out) const {
  for (const auto* f : columns_) {
    out.push_back(',');
    BaseType t = f->type()->base_type();
    if (t == BaseType::String) {
      const auto* s = table.GetPointer<const flatbuffers::String*>(f->offset());
      if (s != nullptr) append_csv_text(s->string_view(), out);
    } else if (t == BaseType::Float || t == BaseType::Double) {
      append_double(flatbuffers::GetAnyFieldF(table, *f), out);
    } else if (t == BaseType::Bool) {
      out.append(flatbuffers::GetAnyFieldI(table, *f) != 0 ? "true" : "false");
    } else if (t == BaseType::ULong) {
      append_uint(table.GetField<std::uint64_t>(f->offset(),
                                                static_cast<std::uint64_t>(f->default_integer())),
                  out);
    } else {
      std::int64_t v = flatbuffers::GetAnyFieldI(table, *f);
      auto name =
          f->type()->index() >= 0 ? schema_->enum_name(f->type()->index(), v) : std::string_view{};
      if (name.empty()) {
        append_int(v, out);
      } else {
        out.append(name);
      }
    }
  }
}

void MetricsCsv::append_rows(const Record& record, const schema::Envelope& envelope,
                             std::string& out) const {
  const auto* sample = envelope.payload_as_MetricsSample();
  if (sample == nullptr) return;
  std::string prefix;
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
    append_cells(table, out);
    out.push_back('\n');
    return;
  }
  using TableVector = flatbuffers::Vector<flatbuffers::Offset<flatbuffers::Table>>;
  const auto* vec = table.template GetPointer<const TableVector*>(detail_field_->offset());
  if (vec == nullptr) return;
  for (const auto* item : *vec) {
    out.append(prefix);
    append_cells(*item, out);
    out.push_back('\n');
  }
}

}  // namespace rmm::replay
