#include "projector/db/metrics_writer.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <pqxx/tablewriter>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "projector/db/metrics_lists.h"
#include "projector/db/sql_text.h"

namespace rmm::projector::db {
namespace {

constexpr const char* kRollupSamples = "rmm_metrics_rollup";
constexpr const char* kRollupGroups = "rmm_metrics_rollup_groups";
constexpr const char* kLatest = "rmm_metrics_latest";
constexpr const char* kProcesses = "rmm_processes_upsert";
constexpr std::int64_t kMicrosPerHour = 3'600'000'000;

const std::vector<std::string> kMetricsColumns{"agent_id",
                                               "ts",
                                               "seq",
                                               "stream_seq",
                                               "cpu_percent",
                                               "cpu_interval_ms",
                                               "mem_total_bytes",
                                               "mem_used_bytes",
                                               "mem_available_bytes",
                                               "mem_cached_bytes",
                                               "swap_total_bytes",
                                               "swap_used_bytes",
                                               "load1",
                                               "load5",
                                               "load15",
                                               "uptime_s",
                                               "process_count",
                                               "logged_in_users",
                                               "filesystems",
                                               "disks",
                                               "net",
                                               "temperatures",
                                               "agent_ts"};
// The shortest decimal text that reads back as the same float: exact input for numeric sums.
std::string exact(double v) {
  return fmt::format("{}", v);
}
std::string exact(float v) {
  return fmt::format("{}", v);
}

// The start of the UTC hour of `at`, in microseconds.
std::int64_t hour_of(UnixNanos at) {
  const auto us = ns_to_micros(at);
  return us - (us % kMicrosPerHour + kMicrosPerHour) % kMicrosPerHour;
}

// Whether any of the 8 bytes of `w` is a backslash or below 0x20 (a superset of the bytes COPY
// escapes): the zero-byte and less-than tests of each byte, exact for the word as a whole.
bool word_may_need_copy_escape(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const std::uint64_t backslashes = w ^ (kOnes * '\\');
  const std::uint64_t is_backslash = (backslashes - kOnes) & ~backslashes & kHigh;
  const std::uint64_t is_control = (w - kOnes * 0x20) & ~w & kHigh;
  return (is_backslash | is_control) != 0;
}

// `text` as a field of COPY's text format: backslash, tab, newline and carriage return escaped
// (JSON text has no raw control characters, but its backslash escapes must be doubled). Words of
// 8 bytes with nothing to escape are skipped whole: the json lists are most of a row's bytes.
void append_copy_field(std::string& line, std::string_view text) {
  std::size_t run = 0;  // the start of the characters not yet appended
  std::size_t i = 0;
  while (i < text.size()) {
    if (i + 8 <= text.size()) {
      std::uint64_t w;
      std::memcpy(&w, text.data() + i, sizeof w);
      if (!word_may_need_copy_escape(w)) {
        i += 8;
        continue;
      }
    }
    for (const std::size_t end = std::min(i + 8, text.size()); i < end; ++i) {
      const char c = text[i];
      if (c != '\\' && c != '\t' && c != '\n' && c != '\r') continue;
      line.append(text.data() + run, i - run);
      line += '\\';
      line += c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
      run = i + 1;
    }
  }
  line.append(text.data() + run, text.size() - run);
}

// A tab, then the list as its json column text (arrays of values, migration 0008), or \N (NULL)
// when it was not collected.
template <class Row>
void append_copy_list(std::string& line, const std::optional<std::vector<Row>>& list,
                      std::string (*render)(const std::vector<Row>&, ListShape)) {
  line += '\t';
  if (!list) {
    line += "\\N";
    return;
  }
  append_copy_field(line, render(*list, ListShape::kArrays));
}

std::string strings_json(const std::vector<std::string>& list) {
  std::string out = "[";
  for (const auto& s : list) {
    if (out.size() > 1) out += ',';
    append_json_string(out, s);
  }
  return out + "]";
}

// The old way, kept for sums that do not fit ExactDecimalSum: every sample's exact decimal text
// to SQL, grouped and summed there.
void write_rollups_in_sql(pqxx::work& tx, std::span<const SampleRef> samples) {
  PgArray agents, hours, cpu, mem_pct, mem_used;
  for (const auto& s : samples) {
    agents.add_text(s.agent.str());
    hours.add(hour_of(s.at));
    cpu.add_text(exact(s.rows->cpu_percent));
    mem_pct.add_text(exact(s.rows->mem_percent()));
    mem_used.add(s.rows->mem_used_bytes);
  }
  tx.exec_prepared0(kRollupSamples, agents.take(), hours.take(), cpu.take(), mem_pct.take(),
                    mem_used.take());
}

// One (agent, hour) of a batch's samples, summed exactly as SQL's numeric sum() would.
struct HourSums {
  std::int64_t samples = 0;
  ExactDecimalSum cpu, mem_pct, mem_used;
  float cpu_max = 0;
  double mem_pct_max = 0;
  std::int64_t mem_used_max = 0;
};

// What `max(x)::real` gives for numeric x made from `exact(v)`: PostgreSQL converts the decimal
// text to float (strtof), which can differ from a cast of the double in the last bit.
float as_real(double v) {
  float f = std::strtof(exact(v).c_str(), nullptr);
  return f == 0 ? 0.0f : f;  // numeric has no -0
}

// Aggregated per (agent, hour) here, so the upsert gets one row per group instead of one array
// element per sample to parse, group and sum. Falls back to SQL when a sum does not fit.
void write_rollups(pqxx::work& tx, std::span<const SampleRef> samples) {
  std::map<std::pair<AgentId, std::int64_t>, HourSums> groups;
  bool exact_ok = true;
  for (const auto& s : samples) {
    auto [it, fresh] = groups.try_emplace({s.agent, hour_of(s.at)});
    auto& g = it->second;
    const auto& r = *s.rows;
    const double mem_pct = r.mem_percent();
    exact_ok = exact_ok && g.cpu.add(exact(r.cpu_percent)) && g.mem_pct.add(exact(mem_pct)) &&
               g.mem_used.add(fmt::format("{}", r.mem_used_bytes));
    if (fresh || r.cpu_percent > g.cpu_max) g.cpu_max = r.cpu_percent;
    if (fresh || mem_pct > g.mem_pct_max) g.mem_pct_max = mem_pct;
    if (fresh || r.mem_used_bytes > g.mem_used_max) g.mem_used_max = r.mem_used_bytes;
    ++g.samples;
  }
  if (!exact_ok) {
    write_rollups_in_sql(tx, samples);
    return;
  }
  PgArray agents, hours, counts, cpu_sum, cpu_max, mem_sum, mem_max, used_sum, used_max;
  for (const auto& [key, g] : groups) {
    agents.add_text(key.first.str());
    hours.add(key.second);
    counts.add(g.samples);
    cpu_sum.add_text(g.cpu.text());
    cpu_max.add_text(exact(as_real(g.cpu_max)));
    mem_sum.add_text(g.mem_pct.text());
    mem_max.add_text(exact(as_real(g.mem_pct_max)));
    used_sum.add_text(g.mem_used.text());
    used_max.add(g.mem_used_max);
  }
  tx.exec_prepared0(kRollupGroups, agents.take(), hours.take(), counts.take(), cpu_sum.take(),
                    cpu_max.take(), mem_sum.take(), mem_max.take(), used_sum.take(),
                    used_max.take());
}

// One json parameter, one object per agent, read by json_to_recordset in one pass: no array
// literals to unquote (19 of them before), the lists parsed once into their jsonb columns.
void write_latest(pqxx::work& tx, const std::vector<const SampleRef*>& latest) {
  std::string rows = "[";
  for (const auto* s : latest) {
    const auto& r = *s->rows;
    if (rows.size() > 1) rows += ',';
    fmt::format_to(std::back_inserter(rows),
                   FMT_COMPILE("{{\"a\":\"{}\",\"t\":{},\"s\":{},\"c\":{},\"mt\":{},\"mu\":{},"
                               "\"ma\":{},\"mc\":{},\"st\":{},\"su\":{},\"l1\":{},\"l5\":{},"
                               "\"l15\":{},\"u\":{},\"p\":{},\"lu\":{},\"fs\":"),
                   s->agent.str(), ns_to_micros(s->at), s->seq, r.cpu_percent, r.mem_total_bytes,
                   r.mem_used_bytes, r.mem_available_bytes, r.mem_cached_bytes, r.swap_total_bytes,
                   r.swap_used_bytes, r.load1, r.load5, r.load15, r.uptime_s, r.process_count,
                   r.logged_in_users);
    rows += r.filesystems ? filesystems_json(*r.filesystems, ListShape::kObjects) : "null";
    rows += ",\"tp\":";
    rows += r.temperatures ? temperatures_json(*r.temperatures, ListShape::kObjects) : "null";
    rows += ",\"e\":";
    rows += strings_json(r.collection_errors);
    rows += '}';
  }
  rows += ']';
  tx.exec_prepared0(kLatest, rows);
}

// One per pid, whatever the agent sent (the first wins).
std::string processes_json(const std::vector<ProcessRow>& list) {
  std::string out = "[";
  std::set<std::int64_t> seen;
  for (const auto& p : list) {
    if (!seen.insert(p.pid).second) continue;
    if (out.size() > 1) out += ',';
    fmt::format_to(std::back_inserter(out), FMT_COMPILE("{{\"pid\":{},\"name\":"), p.pid);
    append_json_string(out, p.name);
    out += ",\"user\":";
    append_json_string(out, p.user);
    fmt::format_to(std::back_inserter(out),
                   FMT_COMPILE(",\"cpu_percent\":{},\"rss_bytes\":{},\"cmdline\":"), p.cpu_percent,
                   p.rss_bytes);
    append_json_string(out, p.cmdline);
    out += '}';
  }
  return out + "]";
}

// One json parameter, [{"a": agent, "t": ts_us, "s": seq, "p": document}, ...], read by
// json_to_recordset in one pass (`->` on json re-parses its operand each time, and a jsonb[]
// array of documents cost ~100 us per document to parse). `processes` is a json column: the
// document is stored as the text rendered here.
void write_processes(pqxx::work& tx, const std::vector<const SampleRef*>& latest) {
  std::string rows = "[";
  for (const auto* s : latest) {
    if (!s->rows->top_processes) continue;  // not collected: keep the previous list
    if (rows.size() > 1) rows += ',';
    fmt::format_to(std::back_inserter(rows), FMT_COMPILE("{{\"a\":\"{}\",\"t\":{},\"s\":{},\"p\":"),
                   s->agent.str(), ns_to_micros(s->at), s->seq);
    rows += processes_json(*s->rows->top_processes);
    rows += '}';
  }
  if (rows.size() == 1) return;
  rows += ']';
  tx.exec_prepared0(kProcesses, rows);
}

}  // namespace

void prepare_metrics_statements(pqxx::connection& conn) {
  conn.prepare(kRollupGroups,
               "INSERT INTO metrics_hourly AS h (agent_id, hour, samples, cpu_sum, cpu_max, "
               "mem_percent_sum, mem_percent_max, mem_used_sum, mem_used_max) "
               "SELECT agent_id, timestamptz 'epoch' + hour_us * interval '1 microsecond', "
               "samples, cpu_sum, cpu_max, mem_sum, mem_max, used_sum, used_max "
               "FROM unnest($1::uuid[], $2::bigint[], $3::integer[], $4::numeric[], $5::real[], "
               "$6::numeric[], $7::real[], $8::numeric[], $9::bigint[]) AS u(agent_id, hour_us, "
               "samples, cpu_sum, cpu_max, mem_sum, mem_max, used_sum, used_max) "
               "ON CONFLICT (agent_id, hour) DO UPDATE SET samples = h.samples + EXCLUDED.samples, "
               "cpu_sum = h.cpu_sum + EXCLUDED.cpu_sum, "
               "cpu_max = greatest(h.cpu_max, EXCLUDED.cpu_max), "
               "mem_percent_sum = h.mem_percent_sum + EXCLUDED.mem_percent_sum, "
               "mem_percent_max = greatest(h.mem_percent_max, EXCLUDED.mem_percent_max), "
               "mem_used_sum = h.mem_used_sum + EXCLUDED.mem_used_sum, "
               "mem_used_max = greatest(h.mem_used_max, EXCLUDED.mem_used_max)");
  conn.prepare(kRollupSamples,
               "INSERT INTO metrics_hourly AS h (agent_id, hour, samples, cpu_sum, cpu_max, "
               "mem_percent_sum, mem_percent_max, mem_used_sum, mem_used_max) "
               "SELECT agent_id, timestamptz 'epoch' + hour_us * interval '1 microsecond', "
               "count(*), sum(cpu), max(cpu)::real, sum(mem_pct), max(mem_pct)::real, "
               "sum(mem_used), max(mem_used) "
               "FROM unnest($1::uuid[], $2::bigint[], $3::numeric[], $4::numeric[], "
               "$5::bigint[]) AS u(agent_id, hour_us, cpu, mem_pct, mem_used) "
               "GROUP BY agent_id, hour_us "
               "ON CONFLICT (agent_id, hour) DO UPDATE SET samples = h.samples + EXCLUDED.samples, "
               "cpu_sum = h.cpu_sum + EXCLUDED.cpu_sum, "
               "cpu_max = greatest(h.cpu_max, EXCLUDED.cpu_max), "
               "mem_percent_sum = h.mem_percent_sum + EXCLUDED.mem_percent_sum, "
               "mem_percent_max = greatest(h.mem_percent_max, EXCLUDED.mem_percent_max), "
               "mem_used_sum = h.mem_used_sum + EXCLUDED.mem_used_sum, "
               "mem_used_max = greatest(h.mem_used_max, EXCLUDED.mem_used_max)");
  conn.prepare(
      kLatest,
      "INSERT INTO agent_latest_metrics AS l (agent_id, ts, seq, cpu_percent, mem_total_bytes, "
      "mem_used_bytes, mem_available_bytes, mem_cached_bytes, swap_total_bytes, swap_used_bytes, "
      "load1, load5, load15, uptime_s, process_count, logged_in_users, filesystems, "
      "temperatures, collection_errors) "
      "SELECT a, timestamptz 'epoch' + t * interval '1 microsecond', s, c, mt, mu, ma, mc, st, "
      "su, l1, l5, l15, u, p, lu, fs, tp, e "
      "FROM json_to_recordset($1::json) AS r(a uuid, t bigint, s bigint, c real, mt bigint, "
      "mu bigint, ma bigint, mc bigint, st bigint, su bigint, l1 real, l5 real, l15 real, "
      "u bigint, p integer, lu integer, fs jsonb, tp jsonb, e jsonb) "
      "ON CONFLICT (agent_id) DO UPDATE SET ts = EXCLUDED.ts, seq = EXCLUDED.seq, "
      "cpu_percent = EXCLUDED.cpu_percent, mem_total_bytes = EXCLUDED.mem_total_bytes, "
      "mem_used_bytes = EXCLUDED.mem_used_bytes, "
      "mem_available_bytes = EXCLUDED.mem_available_bytes, "
      "mem_cached_bytes = EXCLUDED.mem_cached_bytes, "
      "swap_total_bytes = EXCLUDED.swap_total_bytes, swap_used_bytes = EXCLUDED.swap_used_bytes, "
      "load1 = EXCLUDED.load1, load5 = EXCLUDED.load5, load15 = EXCLUDED.load15, "
      "uptime_s = EXCLUDED.uptime_s, process_count = EXCLUDED.process_count, "
      "logged_in_users = EXCLUDED.logged_in_users, filesystems = EXCLUDED.filesystems, "
      "temperatures = EXCLUDED.temperatures, collection_errors = EXCLUDED.collection_errors "
      "WHERE l.seq < EXCLUDED.seq");
  conn.prepare(kProcesses,
               "INSERT INTO agent_processes AS p (agent_id, ts, seq, processes) "
               "SELECT a, timestamptz 'epoch' + t * interval '1 microsecond', s, p "
               "FROM json_to_recordset($1::json) AS r(a uuid, t bigint, s bigint, p json) "
               "ON CONFLICT (agent_id) DO UPDATE SET ts = EXCLUDED.ts, seq = EXCLUDED.seq, "
               "processes = EXCLUDED.processes WHERE p.seq < EXCLUDED.seq");
}

std::int64_t copy_metric_rows(pqxx::work& tx, std::span<const SampleRef> samples,
                              const std::string& prefix) {
  // libpqxx 6.4's stream_to converts and escapes each field into a string of its own (a third of
  // the projector's CPU on ~1 kB rows); its raw-line writer is private, tablewriter's is not.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  pqxx::tablewriter out(tx, prefix + "metrics", kMetricsColumns.begin(), kMetricsColumns.end());
#pragma GCC diagnostic pop
  std::string line;
  for (const auto& s : samples) {
    const auto& r = *s.rows;
    line.clear();
    auto it = std::back_inserter(line);
    fmt::format_to(
        it, FMT_COMPILE("{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}"),
        s.agent.str(), utc_timestamp_text(ns_to_micros(s.at)), s.seq, s.stream_seq, r.cpu_percent,
        r.cpu_interval_ms, r.mem_total_bytes, r.mem_used_bytes, r.mem_available_bytes,
        r.mem_cached_bytes, r.swap_total_bytes, r.swap_used_bytes, r.load1, r.load5, r.load15,
        r.uptime_s, r.process_count, r.logged_in_users);
    append_copy_list(line, r.filesystems, &filesystems_json);
    append_copy_list(line, r.disks, &disks_json);
    append_copy_list(line, r.network, &net_json);
    append_copy_list(line, r.temperatures, &temperatures_json);
    line += '\t';
    line += s.agent_at ? utc_timestamp_text(ns_to_micros(*s.agent_at)) : std::string("\\N");
    out.write_raw_line(line);
  }
  out.complete();
  return static_cast<std::int64_t>(samples.size());
}

void write_metrics(pqxx::work& tx, std::span<const SampleRef> samples, UnixNanos raw_from) {
  if (samples.empty()) return;
  if (std::all_of(samples.begin(), samples.end(),
                  [&](const SampleRef& s) { return s.at >= raw_from; })) {
    copy_metric_rows(tx, samples);
  } else {
    std::vector<SampleRef> raw;
    std::copy_if(samples.begin(), samples.end(), std::back_inserter(raw),
                 [&](const SampleRef& s) { return s.at >= raw_from; });
    if (!raw.empty()) copy_metric_rows(tx, raw);
  }
  write_rollups(tx, samples);
  // The newest sample of each agent: the highest sequence (a late one that filled a gap is
  // older than what came before it).
  std::map<AgentId, const SampleRef*> last;
  for (const auto& s : samples) {
    auto& newest = last[s.agent];
    if (newest == nullptr || s.seq > newest->seq) newest = &s;
  }
  std::vector<const SampleRef*> latest;
  latest.reserve(last.size());
  for (const auto& [agent, s] : last) latest.push_back(s);
  write_latest(tx, latest);
  write_processes(tx, latest);
}

}  // namespace rmm::projector::db
