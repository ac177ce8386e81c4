// The json text of a MetricsSample's per-item lists (filesystems, disks, interfaces, sensors), in
// two shapes from one field list per item type, so the shapes cannot disagree on names or order:
// - ListShape::kArrays: each item the array of its values in field order, no keys. The raw
//   `metrics` rows (migration 0008): keys were half of a COPY row's bytes, and COPY is the
//   projector's ceiling. The migration and the views of 0008 rely on this order.
// - ListShape::kObjects: each item an object with named fields. The jsonb documents of
//   agent_latest_metrics, which the API reads by key.
// Pure functions; the text is the same for the same rows (a live fold and a rebuild write the same
// bytes, so `rmm-projector verify` compares them as they are).
#pragma once

#include <string>
#include <vector>

#include "projector/folds/telemetry.h"

namespace rmm::projector::db {

enum class ListShape { kArrays, kObjects };

// Field order (kArrays) and names (kObjects):
// mount, fstype, device, used_bytes, total_bytes, inodes_used, inodes_total.
std::string filesystems_json(const std::vector<FilesystemRow>& list, ListShape shape);
// name, reads, writes, read_bytes, write_bytes, io_time_ms.
std::string disks_json(const std::vector<DiskRow>& list, ListShape shape);
// name, rx_bytes, rx_packets, rx_errors, rx_drops, tx_bytes, tx_packets, tx_errors, tx_drops.
std::string net_json(const std::vector<NetRow>& list, ListShape shape);
// chip, label, celsius.
std::string temperatures_json(const std::vector<TemperatureRow>& list, ListShape shape);

}  // namespace rmm::projector::db
