#include "admin/account_push.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

namespace rmm::broker {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// Publishes `payload` to `subject` with a fresh inbox as reply and returns the non-empty replies
// (a "no responders" status ends the wait at once: nothing will answer).
Result<std::vector<std::string>> gather(natsConnection* nc, const std::string& subject,
                                        std::string_view payload, const GatherOptions& o) {
  natsInbox* inbox = nullptr;
  if (auto s = natsInbox_Create(&inbox); s != NATS_OK) {
    return failf("creating an inbox: {}", natsStatus_GetText(s));
  }
  natsSubscription* sub = nullptr;
  natsStatus s = natsConnection_SubscribeSync(&sub, nc, inbox);
  if (s == NATS_OK) {
    s = natsConnection_PublishRequest(nc, subject.c_str(), inbox, payload.data(),
                                      static_cast<int>(payload.size()));
  }
  natsInbox_Destroy(inbox);
  if (s != NATS_OK) {
    natsSubscription_Destroy(sub);
    return failf("requesting {}: {}", subject, natsStatus_GetText(s));
  }
  std::vector<std::string> replies;
  const auto deadline = Clock::now() + o.timeout;
  auto until = deadline;
  while (static_cast<int>(replies.size()) < o.expected) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) break;
    natsMsg* msg = nullptr;
    if (natsSubscription_NextMsg(&msg, sub, left.count()) != NATS_OK) break;
    const bool none = natsMsg_IsNoResponders(msg);
    if (!none && natsMsg_GetDataLength(msg) > 0) {
      replies.emplace_back(natsMsg_GetData(msg),
                           static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
      // The servers of a cluster answer within milliseconds of each other.
      until = std::min(deadline, Clock::now() + o.quiet_after);
    }
    natsMsg_Destroy(msg);
    if (none) break;
  }
  // More servers may still answer. nats.c 3.4.1's read loop can be delivering one of those to
  // the subscription while another thread destroys it (a crash seen in broker_revocation_test):
  // unsubscribe, then a flush, whose PONG the read loop handles only after any reply before it.
  natsSubscription_Unsubscribe(sub);
  natsConnection_FlushTimeout(nc, 2000);
  natsSubscription_Destroy(sub);
  return replies;
}

std::string string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

int url_count(std::string_view urls) {
  int n = 0;
  std::size_t start = 0;
  while (start <= urls.size()) {
    auto end = urls.find(',', start);
    if (end == std::string_view::npos) end = urls.size();
    auto item = urls.substr(start, end - start);
    if (item.find_first_not_of(" \t") != std::string_view::npos) ++n;
    start = end + 1;
  }
  return std::max(n, 1);
}

Result<std::vector<std::string>> lookup_account_jwts(natsConnection* nc, std::string_view account,
                                                     const GatherOptions& options) {
  return gather(nc, fmt::format("$SYS.REQ.ACCOUNT.{}.CLAIMS.LOOKUP", account), "", options);
}

Result<std::vector<PushReply>> push_account_jwt(natsConnection* nc, std::string_view account,
                                                std::string_view jwt,
                                                const GatherOptions& options) {
  auto replies =
      gather(nc, fmt::format("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", account), jwt, options);
  if (!replies) return std::unexpected(replies.error());
  if (replies->empty()) return failf("no server answered the update of account {}", account);
  std::vector<PushReply> out;
  for (const auto& text : *replies) {
    // {"server":{"name":..},"data":{"code":200,"message":..}} or {"server":..,"error":{..}}
    PushReply r;
    json::error_code ec;
    auto doc = json::parse(text, ec);
    if (ec || !doc.is_object()) {
      r.message = "unreadable reply: " + text;
      out.push_back(std::move(r));
      continue;
    }
    const auto& o = doc.as_object();
    if (const auto* srv = o.if_contains("server"); srv != nullptr && srv->is_object()) {
      r.server = string_at(srv->as_object(), "name");
    }
    if (const auto* data = o.if_contains("data"); data != nullptr && data->is_object()) {
      r.ok = true;
      r.message = string_at(data->as_object(), "message");
    } else if (const auto* err = o.if_contains("error"); err != nullptr && err->is_object()) {
      r.message = string_at(err->as_object(), "description");
    } else {
      r.message = "reply without data or error: " + text;
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace rmm::broker
