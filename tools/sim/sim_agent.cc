#include "tools/sim/sim_agent.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include "admin/identity.h"
#include "admin/jwt.h"
#include "common/command_codec.h"
#include "common/command_signing.h"
#include "common/event_codec.h"

namespace rmm::sim {

namespace asio = boost::asio;
using Steady = std::chrono::steady_clock;

SimAgent::SimAgent(asio::io_context& io, const FleetConfig& config, FleetStats& stats,
                   SimIdentity identity, asio::ip::address local_address, std::size_t first_server,
                   std::uint64_t seed)
    : io_(io),
      config_(config),
      stats_(stats),
      identity_(std::move(identity)),
      id_text_(identity_.id.str()),
      msg_ids_(identity_.id, MsgIdKey::generate()),
      local_address_(local_address),
      server_(first_server % config.servers.size()),
      socket_(io),
      timer_(io),
      rng_(seed) {}

void SimAgent::start() {
  connect();
}

void SimAgent::stop() {
  if (state_ == State::kReady && stats_.connected_now > 0) --stats_.connected_now;
  state_ = State::kStopped;
  ++generation_;
  boost::system::error_code ec;
  socket_.close(ec);
  timer_.cancel();
}

std::chrono::milliseconds SimAgent::jittered(std::chrono::milliseconds base) {
  std::uniform_real_distribution<double> d(1.0 - config_.jitter, 1.0 + config_.jitter);
  return std::chrono::milliseconds(static_cast<std::int64_t>(base.count() * d(rng_)));
}

void SimAgent::connect() {
  if (state_ == State::kStopped) return;
  state_ = State::kConnecting;
  auto gen = ++generation_;
  parser_ = WireParser{};
  out_.clear();
  writing_.clear();
  write_busy_ = false;
  in_flight_ = 0;
  boost::system::error_code ec;
  socket_.close(ec);
  socket_.open(config_.servers[server_].protocol(), ec);
  if (!ec && !local_address_.is_unspecified()) {
    socket_.set_option(asio::socket_base::reuse_address(true), ec);
    socket_.bind(asio::ip::tcp::endpoint(local_address_, 0), ec);
  }
  if (ec) {
    drop("socket: " + ec.message(), true);
    return;
  }
  socket_.async_connect(config_.servers[server_], [this, gen](const boost::system::error_code& e) {
    if (gen != generation_) return;
    if (e) {
      drop("connect: " + e.message(), true);
      return;
    }
    socket_.set_option(asio::ip::tcp::no_delay(true));
    state_ = State::kHandshake;
    read();
  });
}

void SimAgent::read() {
  auto gen = generation_;
  socket_.async_read_some(asio::buffer(read_buf_),
                          [this, gen](const boost::system::error_code& e, std::size_t n) {
                            if (gen != generation_) return;
                            if (e) {
                              drop("read: " + e.message(), false);
                              return;
                            }
                            parser_.feed(read_buf_, n);
                            ServerOp op;
                            bool error = false;
                            while (gen == generation_ && parser_.next(op, error)) handle(op);
                            if (gen != generation_) return;
                            if (error) {
                              drop("protocol error", false);
                              return;
                            }
                            flush();
                            read();
                          });
}

void SimAgent::handle(const ServerOp& op) {
  switch (op.kind) {
    case ServerOp::Kind::kInfo: {
      if (state_ != State::kHandshake) return;  // later INFOs (cluster updates) are ignored
      std::string nonce = info_nonce(op.payload);
      auto sig = identity_.key.sign(nonce);
      std::string sig_b64 = broker::b64url_encode(
          std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
      out_ += connect_op(identity_.jwt, sig_b64, "rmm-sim-" + id_text_);
      out_ += "SUB " + codec::agent_command_subject(identity_.id) + " 1\r\n";
      out_ += "SUB " + broker::agent_inbox_prefix(identity_.id) + ".> 2\r\n";
      return;
    }
    case ServerOp::Kind::kPing:
      out_ += "PONG\r\n";
      return;
    case ServerOp::Kind::kPong:
      if (state_ == State::kHandshake) on_ready();
      return;
    case ServerOp::Kind::kOk:
      return;
    case ServerOp::Kind::kErr:
      ++stats_.server_errors;
      stats_.last_error = std::string(op.payload);
      // Authorization errors close the connection; the read then fails and we reconnect.
      return;
    case ServerOp::Kind::kMsg:
      if (op.subject.starts_with("_INBOX.")) {
        if (in_flight_ > 0) --in_flight_;
        if (op.payload.find("\"error\"") != std::string_view::npos) {
          ++stats_.ack_errors;
          stats_.last_error = std::string(op.payload);
        } else {
          ++stats_.acked;
          if (op.payload.find("\"duplicate\":true") != std::string_view::npos) {
            ++stats_.duplicates;
          }
        }
      } else {
        on_command(op);
      }
      return;
  }
}

void SimAgent::on_ready() {
  state_ = State::kReady;
  ++stats_.connects;
  ++stats_.connected_now;
  auto now = Steady::now();
  if (!started_sent_) {
    started_sent_ = true;
    codec::AgentStartedInfo s{"sim-" + id_text_.substr(24),
                              "Debian GNU/Linux",
                              "12",
                              "6.1.0",
                              "x86_64",
                              "0.1.0-sim",
                              "Simulated CPU",
                              4,
                              8ull << 30};
    codec::AgentEventHeader h{EventId::generate(clock_), identity_.id, AgentSeq{++seq_},
                              clock_.now(), schema::Lane::Ordered};
    publish(schema::Payload::AgentStarted, codec::build_agent_started(h, s), false);
    if (config_.inventory) {
      codec::InventoryInfo inv;
      inv.hostname = s.hostname;
      inv.os_name = s.os_name;
      inv.os_version = s.os_version;
      inv.kernel = s.kernel;
      inv.arch = s.arch;
      inv.cpu_model = s.cpu_model;
      inv.cpu_cores = 4;
      inv.cpu_threads = 4;
      inv.memory_total_bytes = s.memory_total_bytes;
      inv.interfaces = {{"eth0", "02:00:00:00:00:01", {"10.0.0.2/24"}}};
      inv.packages = {{"bash", "5.2.15-2", "amd64"}, {"openssl", "3.0.11", "amd64"}};
      inv.services = {{"ssh.service", "loaded", "active", "running"}};
      codec::AgentEventHeader ih{EventId::generate(clock_), identity_.id, AgentSeq{++seq_},
                                 clock_.now(), schema::Lane::Ordered};
      publish(schema::Payload::Inventory, codec::build_inventory(ih, inv), false);
    }
    std::uniform_int_distribution<std::int64_t> first(0, config_.metrics_interval.count());
    next_metrics_ = now + std::chrono::milliseconds(first(rng_));
  } else if (next_metrics_ < now) {
    next_metrics_ = now + jittered(config_.metrics_interval) / 2;
  }
  next_heartbeat_ = now;  // presence first after every (re)connect
  schedule();
}

void SimAgent::on_command(const ServerOp& op) {
  // A load generator, not an agent: it reads the envelope without checking the signature.
  auto envelope = codec::signed_command_envelope(
      {reinterpret_cast<const std::uint8_t*>(op.payload.data()), op.payload.size()});
  if (!envelope) {
    stats_.last_error = "command: " + envelope.error().message;
    return;
  }
  auto env = codec::verify_command(*envelope);
  if (!env) {
    stats_.last_error = "command: " + env.error().message;
    return;
  }
  auto cmd = codec::read_command(**env);
  if (!cmd) {
    stats_.last_error = "command: " + cmd.error().message;
    return;
  }
  ++stats_.commands;
  codec::AgentEventHeader h{EventId::generate(clock_), identity_.id, AgentSeq{++seq_}, clock_.now(),
                            schema::Lane::Ordered};
  publish(schema::Payload::CommandReceived,
          codec::build_command_received(
              h, {cmd->id, std::string(codec::command_kind(cmd->action)), cmd->issuer, 0}),
          false);
  codec::AgentEventHeader h2{EventId::generate(clock_), identity_.id, AgentSeq{++seq_},
                             clock_.now(), schema::Lane::Ordered};
  codec::CommandCompletedInfo done;
  done.command = cmd->id;
  done.duration_ms = 1;
  publish(schema::Payload::CommandCompleted, codec::build_command_completed(h2, done), false);
}

void SimAgent::drop(const std::string& why, bool count_failure) {
  if (state_ == State::kStopped) return;
  if (state_ == State::kReady) {
    ++stats_.disconnects;
    if (stats_.connected_now > 0) --stats_.connected_now;
  }
  if (count_failure) ++stats_.connect_failures;
  stats_.last_error = why;
  ++generation_;
  boost::system::error_code ec;
  socket_.close(ec);
  state_ = State::kIdle;
  server_ = (server_ + 1) % config_.servers.size();
  auto gen = generation_;
  timer_.expires_after(jittered(config_.reconnect_wait));
  timer_.async_wait([this, gen](const boost::system::error_code& e) {
    if (!e && gen == generation_) connect();
  });
}

void SimAgent::schedule() {
  auto gen = generation_;
  timer_.expires_at(std::min(next_heartbeat_, next_metrics_));
  timer_.async_wait([this, gen](const boost::system::error_code& e) {
    if (!e && gen == generation_) on_timer();
  });
}

void SimAgent::on_timer() {
  if (state_ != State::kReady) return;
  auto now = Steady::now();
  if (now >= next_heartbeat_) {
    codec::AgentEventHeader h{EventId::generate(clock_), identity_.id, AgentSeq{++hb_seq_},
                              clock_.now(), schema::Lane::Presence};
    codec::HeartbeatInfo hb{"0.1.0-sim", 3600, 0, 0};
    publish(schema::Payload::Heartbeat, codec::build_heartbeat(h, hb), true);
    next_heartbeat_ = now + jittered(config_.heartbeat_interval);
  }
  if (now >= next_metrics_) {
    std::uniform_real_distribution<double> coin(0, 1);
    if (config_.offline_chance > 0 && in_flight_ == 0 && coin(rng_) < config_.offline_chance) {
      // Offline: close the connection (as a lost network would), come back later.
      ++stats_.offline_periods;
      ++stats_.disconnects;
      if (stats_.connected_now > 0) --stats_.connected_now;
      ++generation_;
      boost::system::error_code ec;
      socket_.close(ec);
      state_ = State::kOffline;
      next_metrics_ = now;
      auto gen = generation_;
      timer_.expires_after(jittered(config_.offline_for));
      timer_.async_wait([this, gen](const boost::system::error_code& e) {
        if (!e && gen == generation_) connect();
      });
      return;
    }
    ++seq_;
    publish(schema::Payload::MetricsSample, make_metrics(), false);
    next_metrics_ = now + jittered(config_.metrics_interval);
  }
  flush();
  schedule();
}

std::vector<std::uint8_t> SimAgent::make_metrics() {
  std::uniform_real_distribution<float> cpu(0, 100);
  codec::MetricsInfo m;
  m.cpu_percent = cpu(rng_);
  m.memory_total_bytes = 8ull << 30;
  m.memory_used_bytes = (2ull << 30) + (rng_() % (4ull << 30));
  m.memory_available_bytes = m.memory_total_bytes - m.memory_used_bytes;
  m.load1 = m.cpu_percent / 25, m.load5 = m.load1, m.load15 = m.load1;
  m.cpu_interval_ms = static_cast<std::uint32_t>(config_.metrics_interval.count());
  m.cpu_core_percent = std::vector<float>{cpu(rng_), cpu(rng_), cpu(rng_), cpu(rng_)};
  m.filesystems = std::vector<codec::FilesystemInfo>{
      {"/", "ext4", "/dev/vda1", (10ull << 30) + seq_ * (1 << 20), 50ull << 30, 1000, 100000},
      {"/var", "ext4", "/dev/vda2", 5ull << 30, 20ull << 30, 500, 50000}};
  m.disks =
      std::vector<codec::DiskIoInfo>{{"vda", seq_ * 10, seq_ * 20, seq_ << 12, seq_ << 13, seq_}};
  m.network =
      std::vector<codec::NetIoInfo>{{"eth0", seq_ << 10, seq_, 0, 0, seq_ << 9, seq_, 0, 0}};
  m.temperatures = std::vector<codec::TemperatureInfo>{};
  m.uptime_s = 3600 + seq_ * 60;
  m.process_count = 120;
  m.logged_in_users = 1;
  codec::AgentEventHeader h{EventId::generate(clock_), identity_.id, AgentSeq{seq_}, clock_.now(),
                            schema::Lane::Ordered};
  return codec::build_metrics(h, m);
}

void SimAgent::publish(schema::Payload type, const std::vector<std::uint8_t>& bytes,
                       bool presence) {
  std::string subject = codec::agent_event_subject(identity_.id, type);
  std::string msg_id = presence ? msg_ids_.presence(hb_seq_) : msg_ids_.ordered(AgentSeq{seq_});
  std::string reply = broker::agent_inbox_prefix(identity_.id) + ".a";
  append_hpub(out_, subject, reply, msg_id,
              std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  ++stats_.published;
  ++in_flight_;
}

void SimAgent::flush() {
  if (write_busy_ || out_.empty() || state_ == State::kConnecting) return;
  write_busy_ = true;
  writing_.swap(out_);
  out_.clear();
  auto gen = generation_;
  asio::async_write(socket_, asio::buffer(writing_),
                    [this, gen](const boost::system::error_code& e, std::size_t) {
                      if (gen != generation_) return;
                      write_busy_ = false;
                      writing_.clear();
                      if (e) {
                        drop("write: " + e.message(), false);
                        return;
                      }
                      flush();
                    });
}

}  // namespace rmm::sim
