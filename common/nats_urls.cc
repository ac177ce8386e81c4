#include "common/nats_urls.h"

#include "common/nats_message.h"

namespace rmm::nats {
namespace {

// Far more than any real server list; bounds the parse of a hostile setting.
constexpr std::size_t kMaxUrls = 64;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<std::vector<std::string>> split_urls(std::string_view urls) {
  std::vector<std::string> out;
  std::string_view rest = urls;
  while (out.size() < kMaxUrls) {
    auto comma = rest.find(',');
    auto one = trim(rest.substr(0, comma));
    if (one.empty()) return failf("empty URL in the NATS URL list '{}'", urls);
    out.emplace_back(one);
    if (comma == std::string_view::npos) return out;
    rest.remove_prefix(comma + 1);
  }
  return failf("more than {} URLs in the NATS URL list", kMaxUrls);
}

Status set_server_urls(natsOptions* opts, std::string_view urls) {
  auto list = split_urls(urls);
  if (!list) return std::unexpected(list.error());
  natsStatus s = NATS_OK;
  if (list->size() == 1) {
    s = natsOptions_SetURL(opts, list->front().c_str());
  } else {
    std::vector<const char*> servers;
    servers.reserve(list->size());
    for (const auto& url : *list) servers.push_back(url.c_str());
    s = natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size()));
  }
  if (s != NATS_OK) return std::unexpected(to_error(s, "setting the NATS server URLs"));
  return {};
}

}  // namespace rmm::nats
