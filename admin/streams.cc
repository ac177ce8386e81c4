#include "admin/streams.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <optional>

#include "admin/files.h"
#include "common/clock.h"
#include "common/files.h"
#include "common/nats_urls.h"

namespace rmm::broker {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

// Integers compare by value whatever their JSON kind (the server may send int64 or uint64).
bool same_value(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) {
    if ((a.is_int64() || a.is_uint64()) && (b.is_int64() || b.is_uint64())) {
      if (a.is_int64() && a.as_int64() < 0) return b.is_int64() && b.as_int64() == a.as_int64();
      if (b.is_int64() && b.as_int64() < 0) return false;
      return a.to_number<std::uint64_t>() == b.to_number<std::uint64_t>();
    }
    return a.to_number<double>() == b.to_number<double>();
  }
  if (a.is_array() && b.is_array()) {
    const auto& x = a.as_array();
    const auto& y = b.as_array();
    return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), same_value);
  }
  if (a.is_object() && b.is_object()) {
    for (const auto& [k, v] : a.as_object()) {
      const json::value* other = b.as_object().if_contains(k);
      if (other == nullptr || !same_value(v, *other)) return false;
    }
    return true;
  }
  return a == b;
}

Result<json::object> load_definition(const fs::path& path) {
  auto text = files::read_all(path);
  if (!text) return std::unexpected(text.error());
  boost::system::error_code ec;
  auto v = json::parse(*text, ec);
  if (ec || !v.is_object()) return failf("{}: not a JSON object", path.string());
  auto* name = v.as_object().if_contains("name");
  if (name == nullptr || !name->is_string() || name->as_string().empty()) {
    return failf("{}: needs a \"name\"", path.string());
  }
  return std::move(v.as_object());
}

// One definition and the stream as the server has it (nullopt: missing).
struct Planned {
  json::object desired;
  std::optional<json::object> info;
  std::optional<StoredState> stored;
};

Result<Planned> plan_one(natsConnection* nc, json::object desired,
                         std::chrono::milliseconds timeout) {
  std::string name(desired.at("name").as_string());
  Planned p{std::move(desired), std::nullopt, std::nullopt};
  auto info = js_api_request(nc, "$JS.API.STREAM.INFO." + name, "", timeout);
  if (!info && info.error().code != Error::Code::kNotFound) return std::unexpected(info.error());
  if (info) {
    auto stored = stored_state(*info);
    if (!stored) return std::unexpected(with_context(stored.error(), name));
    p.stored = *stored;
    p.info = std::move(*info);
  }
  return p;
}

Result<StreamOutcome> apply_one(natsConnection* nc, const Planned& p,
                                std::chrono::milliseconds timeout) {
  std::string name(p.desired.at("name").as_string());
  std::string body = json::serialize(p.desired);
  if (!p.info) {
    auto created = js_api_request(nc, "$JS.API.STREAM.CREATE." + name, body, timeout);
    if (!created) return std::unexpected(with_context(created.error(), "creating " + name));
    return StreamOutcome{name, StreamAction::kCreated};
  }
  const json::value* current = p.info->if_contains("config");
  if (current != nullptr && same_value(p.desired, *current)) {
    return StreamOutcome{name, StreamAction::kUnchanged};
  }
  // Sources a definition does not name were added at run time (a site's leaf node,
  // admin/site_sources.h): an update keeps them.
  if (const auto* sources = current != nullptr && current->is_object()
                                ? current->as_object().if_contains("sources")
                                : nullptr;
      sources != nullptr && !p.desired.contains("sources")) {
    json::object desired = p.desired;
    desired["sources"] = *sources;
    body = json::serialize(desired);
  }
  auto updated = js_api_request(nc, "$JS.API.STREAM.UPDATE." + name, body, timeout);
  if (!updated) return std::unexpected(with_context(updated.error(), "updating " + name));
  return StreamOutcome{name, StreamAction::kUpdated};
}

}  // namespace

std::string_view to_string(StreamAction action) {
  switch (action) {
    case StreamAction::kCreated:
      return "created";
    case StreamAction::kUpdated:
      return "updated";
    case StreamAction::kUnchanged:
      return "unchanged";
  }
  return "?";
}

Result<json::object> js_api_request(natsConnection* nc, const std::string& subject,
                                    std::string_view body, std::chrono::milliseconds timeout) {
  natsMsg* reply = nullptr;
  natsStatus s =
      natsConnection_Request(&reply, nc, subject.c_str(), body.data(),
                             static_cast<int>(body.size()), static_cast<int64_t>(timeout.count()));
  if (s != NATS_OK) {
    return fail(s == NATS_TIMEOUT ? Error::Code::kTimeout : Error::Code::kGeneric,
                fmt::format("request {}: {} ({})", subject, natsStatus_GetText(s),
                            nats_GetLastError(nullptr)));
  }
  std::string_view data(natsMsg_GetData(reply),
                        static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
  boost::system::error_code ec;
  auto v = json::parse(data, ec);
  natsMsg_Destroy(reply);
  if (ec || !v.is_object()) return failf("request {}: reply is not a JSON object", subject);
  if (const auto* err = v.as_object().if_contains("error"); err != nullptr && err->is_object()) {
    const auto* code = err->as_object().if_contains("code");
    const auto* desc = err->as_object().if_contains("description");
    bool not_found = code != nullptr && code->is_int64() && code->as_int64() == 404;
    return fail(not_found ? Error::Code::kNotFound : Error::Code::kGeneric,
                fmt::format("request {}: {}", subject,
                            desc != nullptr && desc->is_string() ? std::string(desc->as_string())
                                                                 : json::serialize(*err)));
  }
  return std::move(v.as_object());
}

Result<std::vector<StreamOutcome>> apply_streams(natsConnection* nc, const fs::path& dir,
                                                 std::chrono::milliseconds timeout,
                                                 const LimitSettings& limits,
                                                 const ReplicaSettings& replicas) {
  if (replicas.replicas > 1) {
    if (auto st = check_replica_count(replicas.replicas); !st) return std::unexpected(st.error());
    auto servers = cluster_size(nc);
    if (!servers) return std::unexpected(servers.error());
    if (auto st = check_fits_cluster(replicas.replicas, *servers); !st) {
      return std::unexpected(st.error());
    }
  }
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  if (ec) return failf("reading {}: {}", dir.string(), ec.message());
  if (files.empty()) return failf("no stream definitions (*.json) in {}", dir.string());
  std::sort(files.begin(), files.end());
  // Everything is read and every limit decided before anything changes, so a refused limit
  // leaves all streams as they were.
  std::vector<Planned> plans;
  bool budget_needed = false;
  std::int64_t held = 0;  // bytes the managed streams hold now (part of the automatic budget)
  for (const auto& path : files) {
    auto desired = load_definition(path);
    if (!desired) return std::unexpected(desired.error());
    auto planned = plan_one(nc, std::move(*desired), timeout);
    if (!planned) return std::unexpected(planned.error());
    std::string_view name = planned->desired.at("name").as_string();
    budget_needed = budget_needed || needs_budget(name, planned->stored, limits);
    if (planned->stored && find_managed(name) != nullptr) {
      held += static_cast<std::int64_t>(planned->stored->bytes);
    }
    plans.push_back(std::move(*planned));
  }
  std::int64_t budget = limits.storage_budget;
  if (budget_needed && budget <= 0) {
    auto b = auto_budget(limits.jetstream_dir, held);
    if (!b) return std::unexpected(b.error());
    budget = *b;
  }
  for (auto& p : plans) {
    if (auto st = set_limits(p.desired, p.stored, limits, budget); !st) {
      return std::unexpected(st.error());
    }
    const json::value* current = p.info ? p.info->if_contains("config") : nullptr;
    if (auto st = set_replicas(
            p.desired, current != nullptr && current->is_object() ? &current->as_object() : nullptr,
            replicas);
        !st) {
      return std::unexpected(st.error());
    }
    if (p.stored) {
      if (auto st = check_no_loss(p.desired, *p.stored, real_clock().now(), limits.force); !st) {
        return std::unexpected(st.error());
      }
    }
  }
  std::vector<StreamOutcome> out;
  for (const auto& p : plans) {
    auto outcome = apply_one(nc, p, timeout);
    if (!outcome) return std::unexpected(outcome.error());
    out.push_back(std::move(*outcome));
  }
  return out;
}

Result<natsConnection*> connect_with_creds(const std::string& url, const fs::path& creds,
                                           const nats::TlsClientOptions& tls) {
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s != NATS_OK) return failf("creating NATS options: {}", natsStatus_GetText(s));
  if (auto st = nats::configure_tls(opts, url, tls); !st) {
    natsOptions_Destroy(opts);
    return std::unexpected(st.error());
  }
  if (auto st = nats::set_server_urls(opts, url); !st) {
    natsOptions_Destroy(opts);
    return std::unexpected(st.error());
  }
  s = natsOptions_SetUserCredentialsFromFiles(opts, creds.c_str(), nullptr);
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts, false);
  if (s == NATS_OK) {
    for (int attempt = 1; attempt <= kAuthAttempts; ++attempt) {
      s = natsConnection_Connect(&nc, opts);
      if (!is_auth_failure(s)) break;
    }
  }
  std::string detail = s == NATS_OK ? "" : nats_GetLastError(nullptr);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    return failf("{} (credentials {})", nats::describe_connect_failure(s, detail, url, tls),
                 creds.string());
  }
  return nc;
}

bool is_auth_failure(natsStatus status) {
  return status == NATS_CONNECTION_AUTH_FAILED || status == NATS_NOT_PERMITTED;
}

}  // namespace rmm::broker
