#include "api/enroll/enroll_responder.h"

#include "admin/tenancy/control_publisher.h"
#include "admin/tenancy/read_model.h"
#include "api/enroll/enroll_protocol.h"
#include "common/log.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "common/service_inboxes.h"

namespace rmm::api::enroll {
namespace {

constexpr auto kPoll = std::chrono::milliseconds(200);
constexpr auto kRetryFirst = std::chrono::milliseconds(250);
constexpr auto kRetryMax = std::chrono::seconds(5);

struct SubscriptionDeleter {
  void operator()(natsSubscription* s) const { natsSubscription_Destroy(s); }
};

}  // namespace

EnrollResponder::EnrollResponder(ResponderOptions options, broker::AgentSigner signer, PgPool& pg,
                                 const Clock& clock)
    : options_(std::move(options)), signer_(std::move(signer)), pg_(pg), clock_(clock) {}

EnrollResponder::~EnrollResponder() {
  stop();
}

void EnrollResponder::start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void EnrollResponder::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void EnrollResponder::run() {
  auto delay = kRetryFirst;
  while (!stop_) {
    auto st = serve();
    if (stop_) break;
    if (!st) log::warn("enroll.responder_retry", {{"error", st.error().message}});
    // Sleep in short steps so stop() is honoured promptly.
    for (auto slept = std::chrono::milliseconds(0); slept < delay && !stop_; slept += kPoll) {
      std::this_thread::sleep_for(kPoll);
    }
    delay = std::min<std::chrono::milliseconds>(delay * 2, kRetryMax);
  }
}

Status EnrollResponder::serve() {
  nats::ConnectOptions opts;
  opts.url = options_.nats_url;
  opts.creds_file = options_.nats_creds;
  opts.tls_ca_file = options_.nats_tls.ca_file;
  opts.tls_server_name = options_.nats_tls.server_name;
  opts.name = "rmm-api enroll";
  opts.inbox_prefix = std::string(nats::kApiInboxPrefix);
  auto conn = nats::Connection::connect(opts);
  if (!conn) return std::unexpected(conn.error());
  auto js = nats::JetStream::create(**conn, {});
  if (!js) return std::unexpected(js.error());
  tenancy::ControlPublisher publisher(**js, "api", clock_);
  EnrollService service(publisher, signer_, options_.revoker, clock_, options_.service);

  natsSubscription* raw = nullptr;
  natsStatus s = natsConnection_QueueSubscribeSync(&raw, (*conn)->raw(),
                                                   std::string(broker::kEnrollSubject).c_str(),
                                                   std::string(kEnrollQueueGroup).c_str());
  if (s != NATS_OK) return std::unexpected(nats::to_error(s, "subscribing to enrollment"));
  std::unique_ptr<natsSubscription, SubscriptionDeleter> sub(raw);
  if (auto f = (*conn)->flush(std::chrono::seconds(5)); !f) return f;
  ready_ = true;
  log::info("enroll.responder_ready", {{"subject", broker::kEnrollSubject}});

  while (!stop_) {
    natsMsg* msg_raw = nullptr;
    s = natsSubscription_NextMsg(&msg_raw, sub.get(), kPoll.count());
    if (s == NATS_TIMEOUT) continue;
    if (s == NATS_CONNECTION_CLOSED || s == NATS_INVALID_SUBSCRIPTION) {
      ready_ = false;
      return std::unexpected(nats::to_error(s, "enrollment subscription"));
    }
    if (s != NATS_OK) continue;  // e.g. slow consumer: the client times out and retries
    nats::Message msg(msg_raw);
    const char* reply_to = natsMsg_GetReply(msg.raw());
    if (reply_to == nullptr || *reply_to == '\0') continue;  // not a request: nobody to answer
    if (!is_enroll_inbox(reply_to)) {
      // Subject text is bounded and printable in the log (nats-server checked its syntax).
      log::warn("enroll.reply_subject_refused",
                {{"reply_subject", std::string_view(reply_to).substr(0, 200)}});
      continue;
    }

    std::string reply;
    auto lease = pg_.acquire();
    if (!lease) {
      log::error("enroll.failed", {{"error", lease.error().message}});
      reply = refused_reply(Refusal::kUnavailable, "enrollment is unavailable; retry later");
    } else {
      tenancy::TenancyReadModel rm(lease->conn());
      auto answer = service.handle(msg.data(), rm, (*conn)->raw());
      // A failed query leaves the connection in an unknown state: do not reuse it.
      if (answer.internal_error) lease->discard();
      reply = std::move(answer.json);
    }
    s = natsConnection_Publish((*conn)->raw(), reply_to, reply.data(),
                               static_cast<int>(reply.size()));
    if (s != NATS_OK) log::warn("enroll.reply_failed", {{"status", natsStatus_GetText(s)}});
  }
  ready_ = false;
  return {};
}

}  // namespace rmm::api::enroll
