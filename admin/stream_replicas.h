// How many copies of each stream a cluster keeps (`rmm-admin apply-streams --replicas`): 1 on a
// single server, 3 (or 5) on a cluster. The count is a setting, not part of the definition files,
// so the same files serve both; applying again with a higher count moves an existing stream to it
// (nats-server copies the stream to the new replicas, see docs/operations.md).
//
// Concurrency: pure functions but cluster_size(), which reads the connection's server list.
#pragma once

#include <nats/nats.h>

#include <boost/json/object.hpp>

#include "common/result.h"

namespace rmm::broker {

struct ReplicaSettings {
  int replicas = 0;    // 0: as the definition files say; else 1, 3 or 5
  bool force = false;  // allow fewer replicas than a stream has (drops copies)
};

// JetStream keeps at most 5 copies; an even count survives no more failures than the odd count
// below it (a majority of 4 is 3), so only odd counts are accepted.
Status check_replica_count(int replicas);

// The number of servers the connection knows: the URLs it was given plus those the cluster
// announced (one server without a cluster announces none).
Result<int> cluster_size(natsConnection* nc);

// Refuses `replicas` above `servers` (the stream could not be placed).
Status check_fits_cluster(int replicas, int servers);

// Sets num_replicas in `desired` (a definition) from `settings`; `current` is the stream's config
// on the server (nullptr: a new stream). Refuses fewer replicas than the stream has unless forced.
Status set_replicas(boost::json::object& desired, const boost::json::object* current,
                    const ReplicaSettings& settings);

}  // namespace rmm::broker
