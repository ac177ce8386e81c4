// The policies and effective_policies tables: storing a PolicySet and (re)computing agents'
// effective policies with policy::merge_policy. Runs inside the batch writer's transaction;
// throws what libpqxx throws.
#pragma once

#include <map>
#include <pqxx/transaction>
#include <set>

#include "common/clock.h"
#include "common/control_plane_events.h"
#include "common/ids.h"
#include "projector/policy/policy_merge.h"

namespace rmm::projector::db {

// Replaces the scope's policies row (an empty document deletes it). Unknown keys are stored (the
// merge ignores them) and logged.
void write_policy(pqxx::work& tx, const codec::PolicySetInfo& v, UnixNanos at);

// The agents whose effective policy a change of `scope` affects (global: every agent).
std::set<AgentId> agents_in_scope(pqxx::work& tx, const codec::ScopeRef& scope);

// The effective policy of each of `agents` from the stored documents (an agent not in the table
// yet gets the global level and the defaults). `revoked` (optional) receives those of `agents`
// that are revoked.
std::map<AgentId, policy::EffectivePolicy> compute_effective(pqxx::work& tx,
                                                             const std::set<AgentId>& agents,
                                                             std::set<AgentId>* revoked = nullptr);

// Replaces the effective_policies rows of the agents in `policies`.
void store_effective(pqxx::work& tx, const std::map<AgentId, policy::EffectivePolicy>& policies);

}  // namespace rmm::projector::db
