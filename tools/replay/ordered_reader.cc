#include "tools/replay/ordered_reader.h"

#include "common/jetstream_reply.h"

namespace rmm::replay {

Result<std::unique_ptr<OrderedReader>> OrderedReader::open(nats::Connection& conn,
                                                           ReaderOptions options) {
  std::unique_ptr<OrderedReader> r(new OrderedReader());
  r->options_ = std::move(options);
  jsOptions jo;
  jsOptions_Init(&jo);
  if (natsStatus s = natsConnection_JetStream(&r->js_, conn.raw(), &jo); s != NATS_OK) {
    return std::unexpected(nats::to_error(s, "jetstream context"));
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = r->options_.stream.c_str();
  so.Ordered = true;
  if (r->options_.since) {
    so.Config.DeliverPolicy = js_DeliverByStartTime;
    so.Config.OptStartTime = nats::wire_start_time(*r->options_.since);
  } else {
    so.Config.DeliverPolicy = js_DeliverAll;
  }
  jsErrCode jerr = static_cast<jsErrCode>(0);
  // nats.c needs a subject; nats-server 2.9 accepts a filter wider than the stream's subjects
  // and then delivers the whole stream.
  const char* subject =
      r->options_.filter_subject.empty() ? ">" : r->options_.filter_subject.c_str();
  natsStatus s = js_SubscribeSync(&r->sub_, r->js_, subject, &jo, &so, &jerr);
  if (s != NATS_OK) return std::unexpected(nats::to_error(s, "ordered consumer"));
  // Never drop messages for being slow: the reader is the only consumer of this subscription.
  natsSubscription_SetPendingLimits(r->sub_, -1, -1);
  jsConsumerInfo* ci = nullptr;
  s = natsSubscription_GetConsumerInfo(&ci, r->sub_, &jo, &jerr);
  if (s != NATS_OK) return std::unexpected(nats::to_error(s, "consumer info"));
  // The push consumer may already have delivered some: the total is delivered + pending.
  r->pending_at_start_ = ci->NumPending + ci->Delivered.Consumer;
  jsConsumerInfo_Destroy(ci);
  r->done_ = !r->options_.follow && r->pending_at_start_ == 0;
  r->last_delivery_ = std::chrono::steady_clock::now();
  return r;
}

OrderedReader::~OrderedReader() {
  if (sub_ != nullptr) {
    // Unsubscribe deletes the ephemeral consumer on the server (nats.c does this for ordered
    // consumers); the server would also drop it after its inactivity threshold.
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }
  if (js_ != nullptr) jsCtx_Destroy(js_);
}

std::string OrderedReader::consumer_name() const {
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (natsSubscription_GetConsumerInfo(&ci, sub_, nullptr, &jerr) != NATS_OK) return {};
  std::string name = ci->Name != nullptr ? ci->Name : "";
  jsConsumerInfo_Destroy(ci);
  return name;
}

Result<std::optional<Delivery>> OrderedReader::next(std::chrono::milliseconds wait) {
  if (done_) return std::optional<Delivery>{};
  natsMsg* raw = nullptr;
  natsStatus s = natsSubscription_NextMsg(&raw, sub_, static_cast<int64_t>(wait.count()));
  if (s == NATS_TIMEOUT) {
    if (!options_.follow &&
        std::chrono::steady_clock::now() - last_delivery_ > options_.stall_timeout) {
      return fail(Error::Code::kTimeout, "the ordered consumer stalled before the end");
    }
    return std::optional<Delivery>{};
  }
  if (s != NATS_OK) return std::unexpected(nats::to_error(s, "next message"));
  Delivery d;
  d.message = nats::Message(raw);
  const char* reply = natsMsg_GetReply(raw);
  if (auto info = nats::parse_delivery_reply(reply != nullptr ? reply : "")) {
    d.stream_seq = info->stream_seq;
    d.stream_time = info->stream_time;
    d.pending = info->pending;
  } else {
    jsMsgMetaData* meta = nullptr;
    if (natsStatus ms = natsMsg_GetMetaData(&meta, raw); ms != NATS_OK) {
      return std::unexpected(nats::to_error(ms, "message metadata"));
    }
    d.stream_seq = meta->Sequence.Stream;
    d.stream_time = meta->Timestamp;
    d.pending = meta->NumPending;
    jsMsgMetaData_Destroy(meta);
  }
  last_delivery_ = std::chrono::steady_clock::now();
  if (!options_.follow && d.pending == 0) done_ = true;
  // Before `since`: delivered only because the start went out rounded down (nats::wire_start_time).
  if (options_.since && d.stream_time < *options_.since) return std::optional<Delivery>{};
  return std::optional<Delivery>(std::move(d));
}

}  // namespace rmm::replay
