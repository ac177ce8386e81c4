#include "admin/site_sources.h"

#include <boost/json/serialize.hpp>

#include "admin/leaf_config.h"
#include "admin/streams.h"

namespace rmm::broker {
namespace {

namespace json = boost::json;
constexpr std::string_view kEvents = "RMM_EVENTS";

Result<json::object> events_config(natsConnection* nc, std::chrono::milliseconds timeout) {
  auto info = js_api_request(nc, "$JS.API.STREAM.INFO." + std::string(kEvents), "", timeout);
  if (!info) return std::unexpected(info.error());
  auto* config = info->if_contains("config");
  if (config == nullptr || !config->is_object()) return fail("RMM_EVENTS info without a config");
  return std::move(config->as_object());
}

// "$JS.<site>.API" -> "<site>"; empty when not of that form.
std::string site_of_api(std::string_view api) {
  if (!api.starts_with("$JS.") || !api.ends_with(".API")) return {};
  return std::string(api.substr(4, api.size() - 8));
}

}  // namespace

Result<SiteSourceChange> set_site_source(natsConnection* nc, std::string_view site, bool present,
                                         std::chrono::milliseconds timeout) {
  if (auto s = check_site(site); !s) return std::unexpected(s.error());
  auto config = events_config(nc, timeout);
  if (!config) return std::unexpected(config.error());
  json::array sources;
  if (auto* current = config->if_contains("sources"); current != nullptr && current->is_array()) {
    sources = current->as_array();
  }
  const auto it = std::find_if(sources.begin(), sources.end(),
                               [&](const json::value& s) { return is_site_source(s, site); });
  if (present == (it != sources.end())) return SiteSourceChange::kUnchanged;
  if (present) {
    sources.push_back(site_source(site));
  } else {
    sources.erase(it);
  }
  if (sources.empty()) {
    config->erase("sources");
  } else {
    (*config)["sources"] = std::move(sources);
  }
  auto updated = js_api_request(nc, "$JS.API.STREAM.UPDATE." + std::string(kEvents),
                                json::serialize(*config), timeout);
  if (!updated) return std::unexpected(with_context(updated.error(), "updating RMM_EVENTS"));
  return present ? SiteSourceChange::kAdded : SiteSourceChange::kRemoved;
}

Result<std::vector<std::string>> site_sources(natsConnection* nc,
                                              std::chrono::milliseconds timeout) {
  auto config = events_config(nc, timeout);
  if (!config) return std::unexpected(config.error());
  std::vector<std::string> out;
  const auto* sources = config->if_contains("sources");
  if (sources == nullptr || !sources->is_array()) return out;
  for (const auto& s : sources->as_array()) {
    const auto* external = s.is_object() ? s.as_object().if_contains("external") : nullptr;
    const auto* api = external != nullptr && external->is_object()
                          ? external->as_object().if_contains("api")
                          : nullptr;
    if (api == nullptr || !api->is_string()) continue;
    auto site = site_of_api(api->as_string());
    if (!site.empty() && is_site_source(s, site)) out.push_back(std::move(site));
  }
  return out;
}

}  // namespace rmm::broker
