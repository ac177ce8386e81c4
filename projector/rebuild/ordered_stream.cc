#include "projector/rebuild/ordered_stream.h"

#include <fmt/format.h>

#include "common/jetstream_reply.h"

namespace rmm::projector::rebuild {
namespace {

using namespace std::chrono_literals;

// After the first message of a batch, wait this long for more before returning what is there.
constexpr auto kTopUpWait = 1ms;

}  // namespace

Result<std::unique_ptr<OrderedStream>> OrderedStream::open(nats::Connection& conn,
                                                           const std::string& stream,
                                                           StreamSeq first) {
  std::unique_ptr<OrderedStream> r(new OrderedStream());
  if (natsStatus s = natsConnection_JetStream(&r->js_, conn.raw(), nullptr); s != NATS_OK) {
    return std::unexpected(nats::to_error(s, "creating JetStream context"));
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;
  if (first.value > 1) {
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = first.value;
  } else {
    so.Config.DeliverPolicy = js_DeliverAll;
  }
  jsErrCode code = static_cast<jsErrCode>(0);
  // nats.c wants a subject; nats-server 2.9 takes ">" as "the whole stream".
  natsStatus s = js_SubscribeSync(&r->sub_, r->js_, ">", nullptr, &so, &code);
  if (s != NATS_OK) {
    return std::unexpected(
        nats::to_error(s, fmt::format("ordered consumer on {} (JetStream error {})", stream,
                                      static_cast<int>(code))));
  }
  // Flow control bounds what the server sends ahead; the client-side limits must not drop it.
  natsSubscription_SetPendingLimits(r->sub_, -1, -1);
  return r;
}

OrderedStream::~OrderedStream() {
  if (sub_ != nullptr) {
    natsSubscription_Unsubscribe(sub_);  // deletes the ephemeral consumer
    natsSubscription_Destroy(sub_);
  }
  if (js_ != nullptr) jsCtx_Destroy(js_);
}

Result<std::optional<StreamMessage>> OrderedStream::next(std::chrono::milliseconds wait) {
  natsMsg* raw = nullptr;
  natsStatus s = natsSubscription_NextMsg(&raw, sub_, static_cast<std::int64_t>(wait.count()));
  if (s == NATS_TIMEOUT) return std::optional<StreamMessage>{};
  if (s != NATS_OK) return std::unexpected(nats::to_error(s, "reading the ordered consumer"));
  nats::Message msg(raw);
  const char* reply = natsMsg_GetReply(raw);
  auto delivery = nats::parse_delivery_reply(reply != nullptr ? reply : "");
  if (!delivery) {
    return failf("message on {} has no JetStream reply subject ({})", msg.subject(),
                 reply != nullptr ? reply : "none");
  }
  return std::optional<StreamMessage>(
      StreamMessage{StreamSeq{delivery->stream_seq}, std::move(msg)});
}

Status OrderedStream::next_batch(std::vector<StreamMessage>& out, std::size_t max, StreamSeq upto,
                                 std::chrono::milliseconds wait) {
  std::size_t taken = 0;
  auto take = [&](StreamMessage m) -> bool {
    if (m.seq > upto) {
      held_ = std::move(m);
      return false;
    }
    out.push_back(std::move(m));
    ++taken;
    return true;
  };
  if (held_) {
    StreamMessage m = std::move(*held_);
    held_.reset();
    if (!take(std::move(m))) return {};
  }
  while (taken < max) {
    auto m = next(taken == 0 ? wait : std::chrono::milliseconds(kTopUpWait));
    if (!m) return std::unexpected(m.error());
    if (!*m) return {};
    if (!take(std::move(**m))) return {};
  }
  return {};
}

Result<StreamSeq> stream_last_seq(nats::Connection& conn, const std::string& stream) {
  jsCtx* js = nullptr;
  if (natsStatus s = natsConnection_JetStream(&js, conn.raw(), nullptr); s != NATS_OK) {
    return std::unexpected(nats::to_error(s, "creating JetStream context"));
  }
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js, stream.c_str(), nullptr, &code);
  jsCtx_Destroy(js);
  if (s != NATS_OK) return std::unexpected(nats::to_error(s, "looking up stream " + stream));
  StreamSeq last{si->State.LastSeq};
  jsStreamInfo_Destroy(si);
  return last;
}

}  // namespace rmm::projector::rebuild
