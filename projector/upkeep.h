// The read models' upkeep, on the connection of whoever owns the projection (the single
// projection's runner, or the partitioned projection's control unit): metrics partitions created
// around today, dead letters and partitions past retention dropped (wall clock: upkeep, not a
// fold). Failures are logged and retried at the next upkeep.
#pragma once

#include <pqxx/connection>

#include "projector/db/batch_writer.h"
#include "projector/settings.h"

namespace rmm::projector {

void read_model_upkeep(db::BatchWriter& writer, pqxx::connection& conn,
                       const ProjectorOptions& options);

}  // namespace rmm::projector
