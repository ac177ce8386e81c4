#include "admin/stream_replicas.h"

#include <fmt/format.h>

namespace rmm::broker {
namespace {

constexpr int kMaxReplicas = 5;  // JetStream's own limit

std::int64_t replicas_of(const boost::json::object& config) {
  const auto* r = config.if_contains("num_replicas");
  if (r == nullptr || !r->is_number()) return 1;
  auto n = r->to_number<std::int64_t>();
  return n < 1 ? 1 : n;  // the server reads 0 as 1
}

}  // namespace

Status check_replica_count(int replicas) {
  if (replicas < 1 || replicas > kMaxReplicas || replicas % 2 == 0) {
    return failf(
        "replicas {}: use 1 (one server), 3 or 5 (a cluster of at least that many nodes); an even "
        "count survives no more node losses than the odd count below it",
        replicas);
  }
  return {};
}

Result<int> cluster_size(natsConnection* nc) {
  char** servers = nullptr;
  int count = 0;
  natsStatus s = natsConnection_GetServers(nc, &servers, &count);
  if (s != NATS_OK) return failf("listing the cluster's servers: {}", natsStatus_GetText(s));
  for (int i = 0; i < count; ++i) std::free(servers[i]);
  std::free(servers);
  return count;
}

Status check_fits_cluster(int replicas, int servers) {
  if (replicas > servers) {
    return failf(
        "replicas {}: the broker announces {} server(s); a stream needs a cluster of at least as "
        "many nodes as copies (give --nats-url every node, and check that the cluster has formed)",
        replicas, servers);
  }
  return {};
}

Status set_replicas(boost::json::object& desired, const boost::json::object* current,
                    const ReplicaSettings& settings) {
  if (settings.replicas == 0) return {};
  if (auto s = check_replica_count(settings.replicas); !s) return s;
  if (current != nullptr && !settings.force && replicas_of(*current) > settings.replicas) {
    return failf(
        "{} has {} replicas: --replicas {} would drop copies; give --replicas {} (or --force to "
        "scale it down)",
        std::string_view(desired.at("name").as_string()), replicas_of(*current), settings.replicas,
        replicas_of(*current));
  }
  desired["num_replicas"] = settings.replicas;
  return {};
}

}  // namespace rmm::broker
