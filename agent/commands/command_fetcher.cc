#include "agent/commands/command_fetcher.h"

#include <fmt/format.h>

#include <charconv>
#include <vector>

#include "common/log.h"
#include "common/nats_message.h"

namespace rmm::agent {
namespace {

constexpr auto kSlice = std::chrono::milliseconds(100);
constexpr auto kWarnEvery = std::chrono::minutes(1);

std::uint64_t to_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() ? v : 0;
}

}  // namespace

bool is_stream_delivery(natsMsg* msg) {
  const char* reply = natsMsg_GetReply(msg);
  return reply != nullptr && std::string_view(reply).starts_with("$JS.ACK.");
}

Delivery parse_ack_subject(std::string_view reply) {
  std::vector<std::string_view> tokens;
  std::size_t start = 0;
  while (start <= reply.size() && tokens.size() < 16) {
    auto end = reply.find('.', start);
    if (end == std::string_view::npos) end = reply.size();
    tokens.push_back(reply.substr(start, end - start));
    start = end + 1;
  }
  if (tokens.size() < 9 || tokens[0] != "$JS" || tokens[1] != "ACK") return {};
  // With a JetStream domain the subject has two more tokens before the stream.
  std::size_t base = tokens.size() >= 11 ? 4 : 2;
  return Delivery{StreamSeq{to_u64(tokens[base + 3])}, to_u64(tokens[base + 2])};
}

CommandFetcher::CommandFetcher(nats::Connection& conn, const AgentId& agent, FetcherOptions options,
                               Handler handler)
    : conn_(conn),
      agent_(agent),
      options_(options),
      handler_(std::move(handler)),
      inbox_prefix_(fmt::format("_INBOX.{}.cmd.", agent.str())),
      next_subject_(fmt::format("$JS.{}API.CONSUMER.MSG.NEXT.RMM_COMMANDS.{}",
                                options.js_domain.empty() ? "" : options.js_domain + ".",
                                agent.str())) {}

CommandFetcher::~CommandFetcher() {
  stop();
}

Status CommandFetcher::start() {
  if (thread_.joinable()) return fail("command fetcher already started");
  std::string wildcard = inbox_prefix_ + "*";
  natsStatus s = natsConnection_SubscribeSync(&sub_, conn_.raw(), wildcard.c_str());
  if (s != NATS_OK) return std::unexpected(nats::to_error(s, "subscribing to " + wildcard));
  // A pull delivers at most `batch` commands per request: small limits are plenty.
  natsSubscription_SetPendingLimits(sub_, 4096, 64 * 1024 * 1024);
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
  return {};
}

void CommandFetcher::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (sub_ != nullptr) {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
    sub_ = nullptr;
  }
}

bool CommandFetcher::pause(std::chrono::milliseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (!stopping_) {
    auto left = end - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds::zero()) return true;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(left, kSlice));
  }
  return false;
}

void CommandFetcher::run() {
  std::uint64_t request = 0;
  const std::string body = fmt::format(R"({{"batch":{},"expires":{}}})", options_.batch,
                                       std::chrono::nanoseconds(options_.expires).count());
  while (!stopping_) {
    if (!conn_.connected()) {
      // Requests made while disconnected would pile up in nats.c's reconnect buffer.
      if (!pause(kSlice)) break;
      continue;
    }
    const std::string reply = inbox_prefix_ + std::to_string(++request);
    natsStatus s = natsConnection_PublishRequest(conn_.raw(), next_subject_.c_str(), reply.c_str(),
                                                 body.data(), static_cast<int>(body.size()));
    if (s != NATS_OK) {
      log::warn("command.fetch_failed", {{"error", nats::to_error(s, "pull request").message}});
      if (!pause(options_.backoff)) break;
      continue;
    }
    const auto end = std::chrono::steady_clock::now() + options_.expires + std::chrono::seconds(1);
    int got = 0;
    bool backoff = false;
    bool answered = false;  // a message or a status for this request arrived
    while (!stopping_ && got < options_.batch && std::chrono::steady_clock::now() < end) {
      natsMsg* raw = nullptr;
      s = natsSubscription_NextMsg(&raw, sub_, kSlice.count());
      if (s == NATS_TIMEOUT) continue;
      if (s != NATS_OK) {
        backoff = true;
        break;
      }
      nats::Message msg(raw);
      if (!is_stream_delivery(raw)) {
        // A status of one of our requests. Anything stored in the stream comes with an ack
        // subject instead, whatever it holds: a status message that another client made the
        // server publish onto this agent's command subject is a delivery like any other, and is
        // terminated by the handler rather than mistaken for the end of this request.
        auto status = msg.header("Status").value_or("");
        if (status == "100") continue;         // idle heartbeat (not requested, harmless)
        if (msg.subject() != reply) continue;  // the end of an earlier request
        if (status.empty()) continue;          // not from the server: no status at all
        answered = true;
        if (status != "404" && status != "408") {
          warn_limited("command.fetch_status",
                       fmt::format("{} {}", status, msg.header("Description").value_or("")));
          backoff = true;
        }
        break;
      }
      answered = true;
      handle(raw);
      ++got;
    }
    // A denied request, or one for a consumer that does not exist, is never answered.
    silent_ = answered ? 0 : silent_ + 1;
    if (silent_ >= 3) {
      warn_limited("command.fetch_unanswered",
                   "no reply to pull requests: is this agent's command consumer missing?");
    }
    if (backoff && !pause(options_.backoff)) break;
  }
}

void CommandFetcher::warn_limited(std::string_view what, const std::string& detail) {
  auto now = std::chrono::steady_clock::now();
  if (warned_at_ != std::chrono::steady_clock::time_point{} && now - warned_at_ < kWarnEvery) {
    return;
  }
  warned_at_ = now;
  log::warn(what, {{"detail", detail}});
}

void CommandFetcher::handle(natsMsg* msg) {
  const char* reply = natsMsg_GetReply(msg);
  std::string_view ack_subject = reply != nullptr ? reply : "";
  Delivery d = parse_ack_subject(ack_subject);
  std::span<const std::uint8_t> data(reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(msg)),
                                     static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  Disposition disposition = handler_(data, d);
  delivered_++;
  if (ack_subject.empty()) return;
  // A negative ack asks for redelivery after a delay, so a failing disk is not a busy loop.
  std::string_view ack = disposition == Disposition::kAck   ? "+ACK"
                         : disposition == Disposition::kNak ? R"(-NAK {"delay":5000000000})"
                                                            : "+TERM";
  natsStatus s =
      natsConnection_Publish(conn_.raw(), reply, ack.data(), static_cast<int>(ack.size()));
  if (s != NATS_OK) {
    // Not fatal: the command is recorded, and a redelivery is recognised by its id.
    log::warn("command.ack_failed", {{"error", nats::to_error(s, "ack").message}});
  }
}

}  // namespace rmm::agent
