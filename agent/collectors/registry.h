// Every telemetry collector, declared once with the platforms it supports. The functions live in
// agent/platform/<os>/ (agent/platform/collectors.h); this table is what the samplers iterate, what
// configuration may switch off by name, and what a test checks for completeness.
#pragma once

#include <span>
#include <string_view>

#include "agent/platform/collectors.h"

namespace rmm::agent::collectors {

// Bit set of platform::Os values.
using Platforms = unsigned;
inline constexpr Platforms kLinux = static_cast<Platforms>(platform::Os::kLinux);
inline constexpr Platforms kWindows = static_cast<Platforms>(platform::Os::kWindows);
inline constexpr Platforms kMacos = static_cast<Platforms>(platform::Os::kMacos);

struct MetricsCollectorSpec {
  std::string_view name;
  Platforms platforms;
  // Reports rates from the difference with its previous call, so its first call only sets a
  // baseline (see MetricsCollector).
  bool stateful;
  Status (*collect)(platform::SamplerState&, codec::MetricsInfo&);
  std::string_view fills;  // the MetricsSample fields it owns
};

struct InventoryCollectorSpec {
  std::string_view name;
  Platforms platforms;
  Status (*collect)(codec::InventoryInfo&);
  std::string_view fills;
};

std::span<const MetricsCollectorSpec> metrics_collectors();
std::span<const InventoryCollectorSpec> inventory_collectors();

// Whether a collector declared for `platforms` runs on the platform of this build.
bool supported_here(Platforms platforms);

// Whether `name` is a metrics or inventory collector (configuration checks switch-off lists).
bool is_known_collector(std::string_view name);

}  // namespace rmm::agent::collectors
