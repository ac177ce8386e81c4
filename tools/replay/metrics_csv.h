// CSV of MetricsSample events for analysts: one row per sample, or with a detail one row per
// filesystem, disk, interface, sensor or process of each sample. Columns come from the binary
// schema (every scalar and string field of the table, in declaration order), after the fixed
// columns stream_seq, stream_time, agent_id, seq, occurred_at (RFC 3339 UTC).
//
// Concurrency: immutable after create(). Limitations: nested lists inside a detail row (a
// process's arguments are a string, so none today) are left out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "events_generated.h"
#include "tools/replay/record_format.h"
#include "tools/replay/schema_json.h"

namespace rmm::replay {

class MetricsCsv {
 public:
  // `detail`: "" (one row per sample), or a list field of MetricsSample: "filesystems", "disks",
  // "network" (alias "interfaces"), "temperatures" (alias "sensors"), "top_processes" (alias
  // "processes").
  static Result<MetricsCsv> create(const SchemaJson& schema, std::string_view detail);

  void append_header(std::string& out) const;
  // Appends the rows of one verified envelope; nothing for other payloads.
  void append_rows(const Record& record, const schema::Envelope& envelope, std::string& out) const;

 private:
  // One column, resolved from the schema once: where the field is and what an absent one prints.
  struct Column {
    reflection::BaseType type = reflection::BaseType::None;
    flatbuffers::voffset_t voffset = 0;
    int enum_index = -1;
    std::string absent;  // the cell of an absent field (its default)
  };

  explicit MetricsCsv(const SchemaJson& schema) : schema_(&schema) {}
  void append_cells(const std::uint8_t* table, std::string& out) const;

  const SchemaJson* schema_;
  const reflection::Field* detail_field_ = nullptr;  // the list in MetricsSample, or null
  std::vector<const reflection::Field*> fields_;     // of the row table, in column order
  std::vector<Column> columns_;                      // parallel to fields_
};

void append_csv_text(std::string_view text, std::string& out);

}  // namespace rmm::replay
