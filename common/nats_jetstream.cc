#include "common/nats_jetstream.h"

#include <algorithm>

namespace rmm::nats {
namespace {

Error js_error(natsStatus s, jsErrCode code, std::string_view what) {
  Error e = to_error(s, what);
  if (code != 0) e.message += fmt::format(" (JetStream error {})", static_cast<int>(code));
  if (code == JSConsumerNotFoundErr || code == JSStreamNotFoundErr) e.code = Error::Code::kNotFound;
  // A `discard new` stream at its limit answers "maximum bytes/messages exceeded" (10077).
  if (code == JSStreamStoreFailedErr && e.message.find("maximum") != std::string::npos) {
    e.code = Error::Code::kFull;
  }
  return e;
}

}  // namespace

Result<std::unique_ptr<JetStream>> JetStream::create(Connection& conn, JetStreamOptions options) {
  std::unique_ptr<JetStream> js(new JetStream());
  js->options_ = std::move(options);
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = js->options_.api_wait.count();
  o.PublishAsync.MaxPending = js->options_.max_pending;
  o.PublishAsync.StallWait = js->options_.stall_wait.count();
  if (js->options_.on_ack) {
    o.PublishAsync.AckHandler = &JetStream::on_async_ack;
    o.PublishAsync.AckHandlerClosure = js.get();
  }
  if (natsStatus s = natsConnection_JetStream(&js->js_, conn.raw(), &o); s != NATS_OK) {
    return std::unexpected(to_error(s, "creating JetStream context"));
  }
  return js;
}

JetStream::~JetStream() {
  if (js_ != nullptr) jsCtx_Destroy(js_);
}

Result<PubAck> JetStream::publish(const std::string& subject, std::span<const std::uint8_t> data,
                                  const std::string& msg_id, std::chrono::milliseconds timeout) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = msg_id.empty() ? nullptr : msg_id.c_str();
  po.MaxWait = timeout.count();
  jsPubAck* pa = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s =
      js_Publish(&pa, js_, subject.c_str(), data.data(), static_cast<int>(data.size()), &po, &code);
  if (s != NATS_OK) return std::unexpected(js_error(s, code, "JetStream publish to " + subject));
  PubAck ack{pa->Stream != nullptr ? pa->Stream : "", StreamSeq{pa->Sequence}, pa->Duplicate};
  jsPubAck_Destroy(pa);
  return ack;
}

Status JetStream::publish_async(const std::string& subject, std::span<const std::uint8_t> data,
                                const std::string& msg_id) {
  natsMsg* msg = nullptr;
  natsStatus s =
      natsMsg_Create(&msg, subject.c_str(), nullptr, reinterpret_cast<const char*>(data.data()),
                     static_cast<int>(data.size()));
  if (s == NATS_OK && !msg_id.empty()) s = natsMsgHeader_Set(msg, "Nats-Msg-Id", msg_id.c_str());
  if (s == NATS_OK) s = js_PublishMsgAsync(js_, &msg, nullptr);
  // On success the library owns the message (and sets msg to NULL).
  natsMsg_Destroy(msg);
  if (s != NATS_OK) return std::unexpected(to_error(s, "JetStream async publish to " + subject));
  return {};
}

Status JetStream::publish_async_complete(std::chrono::milliseconds timeout) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = timeout.count();
  natsStatus s = js_PublishAsyncComplete(js_, &po);
  if (s != NATS_OK) return std::unexpected(to_error(s, "waiting for JetStream acks"));
  return {};
}

void JetStream::on_async_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* self = static_cast<JetStream*>(closure);
  const char* id = nullptr;
  natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
  std::string msg_id = id != nullptr ? id : "";
  if (pae != nullptr) {
    std::string text = pae->ErrText != nullptr ? pae->ErrText : natsStatus_GetText(pae->Err);
    self->options_.on_ack(
        msg_id, fail(pae->Err == NATS_TIMEOUT ? Error::Code::kTimeout : Error::Code::kGeneric,
                     "publish not acknowledged: " + text));
  } else if (pa != nullptr) {
    self->options_.on_ack(msg_id, PubAck{pa->Stream != nullptr ? pa->Stream : "",
                                         StreamSeq{pa->Sequence}, pa->Duplicate});
  }
  // With an AckHandler the callback owns the message.
  natsMsg_Destroy(msg);
}

Status JetStream::ensure_pull_consumer(const PullConsumerSettings& settings) {
  jsConsumerInfo* ci = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&ci, js_, settings.stream.c_str(), settings.durable.c_str(),
                                    nullptr, &code);
  if (s == NATS_OK) {
    jsConsumerInfo_Destroy(ci);
    return {};
  }
  if (s != NATS_NOT_FOUND && code != JSConsumerNotFoundErr) {
    return std::unexpected(js_error(s, code, "looking up consumer " + settings.durable));
  }
  jsConsumerConfig cfg;
  jsConsumerConfig_Init(&cfg);
  cfg.Durable = settings.durable.c_str();
  cfg.AckPolicy = settings.ack_all ? js_AckAll : js_AckExplicit;
  cfg.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(settings.ack_wait).count();
  cfg.MaxAckPending = settings.max_ack_pending;
  cfg.MaxWaiting = 16;
  if (!settings.filter_subject.empty()) cfg.FilterSubject = settings.filter_subject.c_str();
  if (settings.start_after.value > 0) {
    cfg.DeliverPolicy = js_DeliverByStartSequence;
    cfg.OptStartSeq = settings.start_after.value + 1;
  } else {
    cfg.DeliverPolicy = js_DeliverAll;
  }
  s = js_AddConsumer(&ci, js_, settings.stream.c_str(), &cfg, nullptr, &code);
  if (s != NATS_OK)
    return std::unexpected(js_error(s, code, "creating consumer " + settings.durable));
  jsConsumerInfo_Destroy(ci);
  return {};
}

Result<std::unique_ptr<PullSubscription>> JetStream::pull_subscribe(
    const PullConsumerSettings& settings) {
  if (auto st = ensure_pull_consumer(settings); !st) return std::unexpected(st.error());
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = settings.stream.c_str();
  so.Consumer = settings.durable.c_str();
  so.ManualAck = true;
  natsSubscription* sub = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_PullSubscribe(&sub, js_, settings.filter_subject.c_str(),
                                  settings.durable.c_str(), nullptr, &so, &code);
  if (s != NATS_OK) {
    return std::unexpected(js_error(s, code, "binding pull consumer " + settings.durable));
  }
  return std::unique_ptr<PullSubscription>(new PullSubscription(sub));
}

PullSubscription::~PullSubscription() {
  // Unsubscribing a bound durable pull subscription would not delete the consumer; destroy only.
  natsSubscription_Destroy(sub_);
}

Result<std::vector<Message>> PullSubscription::fetch(int batch, std::chrono::milliseconds timeout) {
  // Deliveries that arrived after an earlier fetch gave up wait in the subscription. nats.c 3.4.1
  // takes them first, then asks the server for the rest of the batch but stops only when its
  // count equals that rest: with more than half a batch queued it never does, and it writes past
  // the array it allocated for the batch (seen as heap corruption at a 10,000-agent connect
  // burst on a cluster). So what is queued is taken on its own, by a fetch of exactly that many,
  // which sends no request.
  int queued = 0;
  if (natsSubscription_GetPending(sub_, &queued, nullptr) == NATS_OK && queued > 0) {
    batch = std::min(batch, queued);
  }
  natsMsgList list{nullptr, 0};
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = natsSubscription_Fetch(&list, sub_, batch, timeout.count(), &code);
  std::vector<Message> out;
  if (s != NATS_OK) {
    natsMsgList_Destroy(&list);
    if (s == NATS_TIMEOUT) return out;
    return std::unexpected(js_error(s, code, "fetch"));
  }
  out.reserve(static_cast<std::size_t>(list.Count));
  for (int i = 0; i < list.Count; ++i) {
    out.emplace_back(list.Msgs[i]);
    list.Msgs[i] = nullptr;  // ownership moved to `out`
  }
  natsMsgList_Destroy(&list);
  return out;
}

}  // namespace rmm::nats
