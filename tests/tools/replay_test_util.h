// Helpers for the rmm-replay tests: fully populated events, publishing, exporting to a string.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "common/event_codec.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "tools/replay/replay.h"

namespace rmm::test {

// Every optional list present and every scalar non-zero.
inline codec::MetricsInfo full_metrics(float cpu) {
  codec::MetricsInfo m;
  m.cpu_percent = cpu;
  m.memory_total_bytes = 8ull << 30;
  m.memory_used_bytes = 3ull << 30;
  m.memory_available_bytes = 5ull << 30;
  m.load1 = 0.5f, m.load5 = 0.25f, m.load15 = 0.125f;
  m.cpu_interval_ms = 1000;
  m.cpu_core_percent = std::vector<float>{cpu, cpu / 2};
  m.memory_cached_bytes = 1ull << 30;
  m.swap_total_bytes = 2ull << 30;
  m.swap_used_bytes = 1ull << 20;
  m.filesystems = std::vector<codec::FilesystemInfo>{
      {"/", "ext4", "/dev/sda1", 10ull << 30, 50ull << 30, 1000, 100000},
      {"/home", "xfs", "/dev/sda2", 1ull << 30, 100ull << 30, 10, 200000}};
  m.disks = std::vector<codec::DiskIoInfo>{{"sda", 1, 2, 3, 4, 5}};
  m.network = std::vector<codec::NetIoInfo>{{"eth0", 1, 2, 3, 4, 5, 6, 7, 8}};
  m.temperatures = std::vector<codec::TemperatureInfo>{{"coretemp", "Core 0", 45.5f}};
  m.uptime_s = 3600;
  m.process_count = 200;
  m.logged_in_users = 2;
  m.top_processes =
      std::vector<codec::ProcessInfo>{{42, "postgres", "postgres", 1.5f, 1 << 20, "postgres -D x"}};
  m.collection_errors = {"sensors: none \"quoted\""};
  return m;
}

struct Publisher {
  std::unique_ptr<nats::Connection> conn;
  std::unique_ptr<nats::JetStream> js;

  Publisher(const std::string& url, const std::string& creds) {
    auto c = nats::Connection::connect({.url = url, .creds_file = creds, .name = "test-pub"});
    if (!c) throw std::runtime_error(c.error().message);
    conn = std::move(*c);
    auto j = nats::JetStream::create(*conn, {});
    if (!j) throw std::runtime_error(j.error().message);
    js = std::move(*j);
  }

  void agent_event(const AgentId& agent, schema::Payload type, AgentSeq seq,
                   const std::vector<std::uint8_t>& bytes) {
    auto r = js->publish(codec::agent_event_subject(agent, type), bytes,
                         codec::agent_msg_id(agent, seq), std::chrono::seconds(5));
    if (!r) throw std::runtime_error(r.error().message);
  }
};

// Runs an export into memory.
inline std::string export_to_string(replay::ExportOptions options,
                                    replay::ExportStats* stats = nullptr) {
  std::FILE* f = std::tmpfile();
  options.out = f;
  options.progress = false;
  auto r = replay::run_export(options);
  if (!r) {
    std::fclose(f);
    throw std::runtime_error(r.error().message);
  }
  if (stats != nullptr) *stats = *r;
  std::string text;
  std::rewind(f);
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return text;
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

}  // namespace rmm::test
