#include "projector/rebuild/ordered_stream.h"

#include <fmt/format.h>

#include "common/jetstream_reply.h"
#include "common/stream_usage.h"

namespace rmm::projector::rebuild {
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
      StreamMessage{StreamSeq{delivery->stream_seq}, std::move(msg), delivery->stream_time});
}

Result<StreamState> stream_state(nats::Connection& conn, const std::string& stream) {
  jsCtx* js = nullptr;
  if (natsStatus s = natsConnection_JetStream(&js, conn.raw(), nullptr); s != NATS_OK) {
    return std::unexpected(nats::to_error(s, "creating JetStream context"));
  }
  auto usage = nats::read_stream_usage(js, stream);
  jsCtx_Destroy(js);
  if (!usage) {
    if (usage.error().code == Error::Code::kNotFound) {
      return fail(Error::Code::kNotFound, fmt::format("stream {} does not exist", stream));
    }
    return std::unexpected(usage.error());
  }
  return StreamState{.messages = usage->messages,
                     .first = StreamSeq{usage->first_seq},
                     .last = StreamSeq{usage->last_seq},
                     .first_time = usage->first_time};
}

Result<StreamSeq> stream_last_seq(nats::Connection& conn, const std::string& stream) {
  auto st = stream_state(conn, stream);
  if (!st) return std::unexpected(st.error());
  return st->last;
}

}  // namespace rmm::projector::rebuild
