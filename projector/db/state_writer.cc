#include "projector/db/state_writer.h"

#include <map>
#include <string>
#include <vector>

#include "projector/db/sql_text.h"

namespace rmm::projector::db {
namespace {

constexpr const char* kInventory = "rmm_inventory_upsert";
constexpr const char* kAgentSummary = "rmm_inventory_summary";
constexpr const char* kOutboxDrops = "rmm_outbox_drops";

// [{"k0": v0, "k1": v1, ...}, ...] from rows of strings.
std::string objects_json(const std::vector<std::vector<std::string>>& rows,
                         std::initializer_list<std::string_view> keys) {
  std::string out = "[";
  for (const auto& row : rows) {
    if (out.size() > 1) out += ',';
    out += '{';
    std::size_t i = 0;
    for (auto key : keys) {
      if (i > 0) out += ',';
      append_json_string(out, key);
      out += ':';
      append_json_string(out, i < row.size() ? row[i] : std::string());
      ++i;
    }
    out += '}';
  }
  return out + "]";
}

std::string strings_json(const std::vector<std::string>& list) {
  std::string out = "[";
  for (const auto& s : list) {
    if (out.size() > 1) out += ',';
    append_json_string(out, s);
  }
  return out + "]";
}

}  // namespace

std::string interfaces_json(const InventoryRow& row) {
  std::string out = "[";
  for (const auto& i : row.interfaces) {
    if (out.size() > 1) out += ',';
    out += "{\"name\":";
    append_json_string(out, i.name);
    out += ",\"mac\":";
    append_json_string(out, i.mac);
    out += ",\"addresses\":";
    out += strings_json(i.addresses);
    out += '}';
  }
  return out + "]";
}

std::string packages_json(const InventoryRow& row) {
  return objects_json(row.packages, {"name", "version", "arch"});
}

std::string services_json(const InventoryRow& row) {
  return objects_json(row.services, {"name", "load", "active", "sub"});
}

void prepare_state_statements(pqxx::connection& conn) {
  conn.prepare(
      kInventory,
      "INSERT INTO agent_inventory AS i (agent_id, ts, seq, hostname, fqdn, os_name, os_version, "
      "os_pretty, kernel, arch, boot_time, cpu_model, cpu_sockets, cpu_cores, cpu_threads, "
      "memory_total_bytes, machine_id, dmi_vendor, dmi_product, dmi_serial, package_manager, "
      "package_count, packages_truncated, service_count, services_truncated, "
      "services_unavailable_reason, interfaces, packages, services, collection_errors) "
      "SELECT agent_id, timestamptz 'epoch' + ts_us * interval '1 microsecond', seq, hostname, "
      "fqdn, os_name, os_version, os_pretty, kernel, arch, "
      "timestamptz 'epoch' + boot_us * interval '1 microsecond', cpu_model, cpu_sockets, "
      "cpu_cores, cpu_threads, memory_total_bytes, machine_id, dmi_vendor, dmi_product, "
      "dmi_serial, package_manager, jsonb_array_length(packages), packages_truncated, "
      "jsonb_array_length(services), services_truncated, services_unavailable_reason, "
      "interfaces, packages, services, collection_errors "
      "FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], "
      "$7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::text[], "
      "$13::integer[], $14::integer[], $15::integer[], $16::bigint[], $17::text[], $18::text[], "
      "$19::text[], $20::text[], $21::text[], $22::boolean[], $23::boolean[], $24::text[], "
      "$25::jsonb[], $26::jsonb[], $27::jsonb[], $28::jsonb[]) AS u(agent_id, ts_us, seq, "
      "hostname, fqdn, os_name, os_version, os_pretty, kernel, arch, boot_us, cpu_model, "
      "cpu_sockets, cpu_cores, cpu_threads, memory_total_bytes, machine_id, dmi_vendor, "
      "dmi_product, dmi_serial, package_manager, packages_truncated, services_truncated, "
      "services_unavailable_reason, interfaces, packages, services, collection_errors) "
      "ON CONFLICT (agent_id) DO UPDATE SET ts = EXCLUDED.ts, seq = EXCLUDED.seq, "
      "hostname = EXCLUDED.hostname, fqdn = EXCLUDED.fqdn, os_name = EXCLUDED.os_name, "
      "os_version = EXCLUDED.os_version, os_pretty = EXCLUDED.os_pretty, "
      "kernel = EXCLUDED.kernel, arch = EXCLUDED.arch, boot_time = EXCLUDED.boot_time, "
      "cpu_model = EXCLUDED.cpu_model, cpu_sockets = EXCLUDED.cpu_sockets, "
      "cpu_cores = EXCLUDED.cpu_cores, cpu_threads = EXCLUDED.cpu_threads, "
      "memory_total_bytes = EXCLUDED.memory_total_bytes, machine_id = EXCLUDED.machine_id, "
      "dmi_vendor = EXCLUDED.dmi_vendor, dmi_product = EXCLUDED.dmi_product, "
      "dmi_serial = EXCLUDED.dmi_serial, package_manager = EXCLUDED.package_manager, "
      "package_count = EXCLUDED.package_count, packages_truncated = EXCLUDED.packages_truncated, "
      "service_count = EXCLUDED.service_count, services_truncated = EXCLUDED.services_truncated, "
      "services_unavailable_reason = EXCLUDED.services_unavailable_reason, "
      "interfaces = EXCLUDED.interfaces, packages = EXCLUDED.packages, "
      "services = EXCLUDED.services, collection_errors = EXCLUDED.collection_errors "
      "WHERE i.seq < EXCLUDED.seq");
  // Only from the inventory agent_inventory now holds (not an older one that filled a gap).
  conn.prepare(kAgentSummary,
               "UPDATE agents a SET os_pretty = u.os_pretty, cpu_model = u.cpu_model, "
               "memory_total_bytes = u.memory_total_bytes "
               "FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) "
               "AS u(id, os_pretty, cpu_model, memory_total_bytes, seq) WHERE a.id = u.id "
               "AND EXISTS (SELECT 1 FROM agent_inventory i WHERE i.agent_id = u.id AND "
               "i.seq = u.seq)");
  conn.prepare(kOutboxDrops,
               "INSERT INTO agent_outbox_drops (agent_id, ts, seq, dropped_metrics, "
               "dropped_heartbeats, oldest_dropped_seq, newest_dropped_seq) "
               "SELECT agent_id, timestamptz 'epoch' + ts_us * interval '1 microsecond', seq, "
               "m, h, o, n FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], "
               "$5::bigint[], $6::bigint[], $7::bigint[]) AS u(agent_id, ts_us, seq, m, h, o, n) "
               "ON CONFLICT (agent_id, seq) DO NOTHING");
}

void write_inventories(pqxx::work& tx, std::span<const InventoryRef> inventories) {
  if (inventories.empty()) return;
  std::map<AgentId, const InventoryRef*> last;  // the highest sequence (see write_metrics)
  for (const auto& i : inventories) {
    auto& newest = last[i.agent];
    if (newest == nullptr || i.seq > newest->seq) newest = &i;
  }
  PgArray agents, ts, seq, hostname, fqdn, os_name, os_version, os_pretty, kernel, arch, boot,
      cpu_model, sockets, cores, threads, memory, machine_id, vendor, product, serial, pkg_mgr,
      pkg_trunc, svc_trunc, svc_reason, ifaces, packages, services, errors;
  for (const auto& [agent, ref] : last) {
    const auto& r = *ref->row;
    agents.add_text(agent.str());
    ts.add(ns_to_micros(ref->at));
    seq.add(ref->seq);
    hostname.add_text(r.hostname);
    fqdn.add_text(r.fqdn);
    os_name.add_text(r.os_name);
    os_version.add_text(r.os_version);
    os_pretty.add_text(r.os_pretty);
    kernel.add_text(r.kernel);
    arch.add_text(r.arch);
    if (r.boot_time_ns != 0) {
      boot.add(ns_to_micros(r.boot_time_ns));
    } else {
      boot.add_null();
    }
    cpu_model.add_text(r.cpu_model);
    sockets.add(static_cast<std::int64_t>(r.cpu_sockets));
    cores.add(static_cast<std::int64_t>(r.cpu_cores));
    threads.add(static_cast<std::int64_t>(r.cpu_threads));
    memory.add(r.memory_total_bytes);
    machine_id.add_text(r.machine_id);
    vendor.add_text(r.dmi_vendor);
    product.add_text(r.dmi_product);
    serial.add_text(r.dmi_serial);
    pkg_mgr.add_text(r.package_manager);
    pkg_trunc.add(r.packages_truncated);
    svc_trunc.add(r.services_truncated);
    svc_reason.add_text(r.services_unavailable_reason);
    ifaces.add_text(interfaces_json(r));
    packages.add_text(packages_json(r));
    services.add_text(services_json(r));
    errors.add_text(strings_json(r.collection_errors));
  }
  tx.exec_prepared0(kInventory, agents.take(), ts.take(), seq.take(), hostname.take(), fqdn.take(),
                    os_name.take(), os_version.take(), os_pretty.take(), kernel.take(), arch.take(),
                    boot.take(), cpu_model.take(), sockets.take(), cores.take(), threads.take(),
                    memory.take(), machine_id.take(), vendor.take(), product.take(), serial.take(),
                    pkg_mgr.take(), pkg_trunc.take(), svc_trunc.take(), svc_reason.take(),
                    ifaces.take(), packages.take(), services.take(), errors.take());
  PgArray ids, pretty, model, mem, seqs;
  for (const auto& [agent, ref] : last) {
    ids.add_text(agent.str());
    pretty.add_text(ref->row->os_pretty);
    model.add_text(ref->row->cpu_model);
    mem.add(ref->row->memory_total_bytes);
    seqs.add(ref->seq);
  }
  tx.exec_prepared0(kAgentSummary, ids.take(), pretty.take(), model.take(), mem.take(),
                    seqs.take());
}

void write_outbox_drops(pqxx::work& tx, std::span<const OutboxDropRef> drops) {
  if (drops.empty()) return;
  PgArray agents, ts, seq, m, h, o, n;
  for (const auto& d : drops) {
    agents.add_text(d.agent.str());
    ts.add(ns_to_micros(d.at));
    seq.add(d.seq);
    m.add(d.row->dropped_metrics);
    h.add(d.row->dropped_heartbeats);
    o.add(d.row->oldest_dropped_seq);
    n.add(d.row->newest_dropped_seq);
  }
  tx.exec_prepared0(kOutboxDrops, agents.take(), ts.take(), seq.take(), m.take(), h.take(),
                    o.take(), n.take());
}

}  // namespace rmm::projector::db
