// The enrollment responder inside rmm-api: a queue subscription (group "rmm-enroll") on
// `rmm.enroll.request` with the services credential, answering each request with
// EnrollService. Several rmm-api instances share the load; each request goes to one of them.
// It answers only to reply subjects of the enrollment inbox form (is_enroll_inbox): a request
// naming any other reply subject is logged and dropped, since the answer is published with the
// services credential and could otherwise land in any stream.
//
// Concurrency: one worker thread owned by this object: it connects (retrying until stop()),
// subscribes, and handles requests one at a time with a synchronous subscription, so no work runs
// on nats.c's threads. start()/stop() from one controlling thread; stop() joins.
// Limitations: one request at a time per instance (enrollment is rare; each takes a few ms plus
// the projection wait).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "admin/identity.h"
#include "api/db/pg_pool.h"
#include "api/enroll/enroll_service.h"
#include "common/clock.h"
#include "common/nats_tls.h"
#include "common/result.h"

namespace rmm::api::enroll {

inline constexpr std::string_view kEnrollQueueGroup = "rmm-enroll";

struct ResponderOptions {
  std::string nats_url;
  std::string nats_creds;  // rmm-api's own (api.creds: answers requests, creates consumers)
  nats::TlsClientOptions nats_tls;
  KeyRevoker revoker;  // revokes the keys a re-enrollment retires (key_revoker.h)
  EnrollServiceOptions service;
};

class EnrollResponder {
 public:
  EnrollResponder(ResponderOptions options, broker::AgentSigner signer, PgPool& pg,
                  const Clock& clock);
  ~EnrollResponder();
  EnrollResponder(const EnrollResponder&) = delete;
  EnrollResponder& operator=(const EnrollResponder&) = delete;

  void start();
  void stop();
  // True once the subscription is registered with the server (tests wait for it).
  bool ready() const { return ready_.load(); }

 private:
  void run();
  // One connected session: returns when stop() is called or the connection is lost for good.
  Status serve();

  ResponderOptions options_;
  broker::AgentSigner signer_;
  PgPool& pg_;
  const Clock& clock_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ready_{false};
  std::thread thread_;
};

}  // namespace rmm::api::enroll
