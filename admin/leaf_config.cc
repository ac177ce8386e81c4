#include "admin/leaf_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <vector>

#include "admin/claims.h"
#include "admin/files.h"
#include "admin/jwt.h"
#include "common/nats_tls.h"

namespace rmm::broker {
namespace {

// Paths and URLs go inside double quotes in the config.
bool quotable(std::string_view value) {
  return !value.empty() && value.find_first_of("\"\\\n") == std::string_view::npos;
}

std::string tls_lines(const std::filesystem::path& cert, const std::filesystem::path& key) {
  return fmt::format(
      "  tls {{\n    cert_file: \"{}\"\n    key_file: \"{}\"\n    timeout: 5\n  }}\n",
      cert.string(), key.string());
}

// The rendered single-server config names itself `gururmm`; a leaf is a server of its own.
std::string with_server_name(std::string text, const std::string& name) {
  auto pos = text.find("\nserver_name:");
  if (pos == std::string::npos) return "server_name: " + name + "\n" + text;
  auto end = text.find('\n', pos + 1);
  text.replace(pos + 1, end - pos - 1, "server_name: " + name);
  return text;
}

// "host:port" with a DNS name or address that needs no quoting.
bool valid_host_port(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return false;
  return text.find_first_not_of(
             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:-[]") ==
             std::string_view::npos &&
         text.substr(colon + 1).find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

Status check_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 32 ||
      domain.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
          std::string_view::npos) {
    return failf("JetStream domain '{}': 1 to 32 letters, digits, - and _", domain);
  }
  return {};
}

Status check_site(std::string_view site) {
  if (auto s = check_domain(site); !s) return s;
  if (site == kHubDomain) return failf("site '{}' is the hub's own domain", site);
  return {};
}

Result<std::string> leafnode_listen_block(const std::string& host, int port,
                                          const std::string& advertise,
                                          const std::filesystem::path& cert,
                                          const std::filesystem::path& key) {
  if (port <= 0 || port > 65535) return failf("invalid leafnode port {}", port);
  if (cert.empty() && !nats::is_loopback_host(host)) {
    return failf("refusing leaf nodes on {} without TLS: give --tls-cert and --tls-key", host);
  }
  const bool v6 = host.find(':') != std::string::npos;
  std::string out = fmt::format(
      "\n# Site leaf nodes connect here with a leaf-<site> credential of the RMM account,\n"
      "# over the client listener's TLS (docs/operations.md, \"Sites with poor links: leaf\n"
      "# nodes\").\n"
      "leafnodes {{\n  listen: \"{}:{}\"\n",
      v6 ? "[" + host + "]" : host, port);
  // nats-server 2.9.10 tells every leaf this listener's address, even with no_advertise, and a
  // leaf reconnects to what it was told: the address leaves reach the hub at goes here.
  if (!advertise.empty()) {
    if (!valid_host_port(advertise)) return failf("invalid leafnode advertise '{}'", advertise);
    out += fmt::format("  advertise: \"{}\"\n", advertise);
  }
  if (!cert.empty()) out += tls_lines(cert, key);
  out += "}\n";
  return out;
}

Result<std::string> render_leaf_config(const Identity& identity, ServerConfigOptions base,
                                       const LeafRemoteOptions& remote) {
  if (auto s = check_site(remote.site); !s) return std::unexpected(s.error());
  std::vector<std::string> urls;
  for (std::size_t start = 0; start <= remote.hub_url.size();) {
    auto end = remote.hub_url.find(',', start);
    if (end == std::string::npos) end = remote.hub_url.size();
    std::string url = remote.hub_url.substr(start, end - start);
    if (!url.starts_with("nats-leaf://") && !url.starts_with("tls://")) {
      return failf("hub leafnode URL '{}' must start with nats-leaf:// or tls://", url);
    }
    if (!quotable(url)) return failf("hub leafnode URL '{}' is not usable", url);
    if (remote.hub_ca.empty()) {
      auto rest = url.substr(url.find("://") + 3);
      auto host = rest.starts_with("[") ? rest.substr(1, rest.find(']') - 1)
                                        : rest.substr(0, rest.rfind(':'));
      if (!nats::is_loopback_host(host)) {
        return failf("the link to {} leaves the machine: give the hub's CA (--hub-ca) for TLS",
                     url);
      }
    }
    urls.push_back(fmt::format("\"{}\"", url));
    start = end + 1;
  }
  if (!quotable(remote.credentials.string())) {
    return fail("leaf credentials: give the path of the leaf's .creds file");
  }
  if (!remote.hub_ca.empty() && !quotable(remote.hub_ca.string())) {
    return failf("hub CA '{}' holds a quote, backslash or newline", remote.hub_ca.string());
  }
  base.jetstream_domain = remote.site;
  base.leafnode_port = 0;
  auto text = render_server_config(identity, base);
  if (!text) return text;
  std::string out = with_server_name(std::move(*text), "gururmm-" + remote.site);
  out += fmt::format(
      "\n# The link to the hub, in the RMM account. Agent events never cross it as messages (in\n"
      "# either direction: the hub's own agents' events have nothing to do here): the hub\n"
      "# sources them from {} (so each arrives once, whatever the link did).\n"
      "# Commands cross it: agents pull them through the hub's domain ($JS.{}.API).\n"
      "leafnodes {{\n  reconnect: 2\n  remotes: [\n    {{\n      urls: [{}]\n"
      "      credentials: \"{}\"\n      account: {}\n"
      "      deny_exports: [\"rmm.evt.>\", \"rmm.p.*.evt.>\"]\n"
      "      deny_imports: [\"rmm.evt.>\", \"rmm.p.*.evt.>\"]\n",
      // nats-server resolves relative paths against its own working directory, not ours.
      kSiteEventsStream, kHubDomain, fmt::join(urls, ", "),
      std::filesystem::absolute(remote.credentials).string(), identity.rmm_account.public_key());
  if (!remote.hub_ca.empty()) {
    out += fmt::format("      tls {{\n        ca_file: \"{}\"\n        timeout: 5\n      }}\n",
                       std::filesystem::absolute(remote.hub_ca).string());
  }
  out += "    }\n  ]\n}\n";
  return out;
}

namespace {

// In the hub's terms, a leaf connection's publish rights are what it may send into the hub and
// its subscribe rights what the hub may send it; at the leaf they are a client's, for the admin
// commands run there with this credential.
UserSpec leaf_user_spec(std::string_view site) {
  const std::string stream(kSiteEventsStream);
  return UserSpec{
      .name = fmt::format("leaf-{}", site),
      .pub_allow =
          {// Into the hub: the source's deliveries, heartbeats and flow control ($JS.S.<token>)
           // and the replies to its consumer-create requests ($JSC.R.<token>), nats-server's
           // fixed subjects for a source without a deliver prefix; the agents' pulls of their
           // command consumers through the hub's domain (also as the hub maps them) and their
           // acks; enrollment requests.
           "$JS.S.>", "$JSC.R.>",
           fmt::format("$JS.{}.API.CONSUMER.MSG.NEXT.RMM_COMMANDS.*", kHubDomain),
           "$JS.API.CONSUMER.MSG.NEXT.RMM_COMMANDS.*", "$JS.ACK.RMM_COMMANDS.>",
           // rmm-updater's reads of releases, through the hub's domain.
           fmt::format("$JS.{}.API.DIRECT.GET.RMM_RELEASES.>", kHubDomain),
           "$JS.API.DIRECT.GET.RMM_RELEASES.>", std::string(kEnrollSubject),
           // At the leaf itself: what apply-streams and stream-usage ask of its own stream.
           "$JS.API.INFO", "$JS.API.STREAM.INFO." + stream, "$JS.API.STREAM.CREATE." + stream,
           "$JS.API.STREAM.UPDATE." + stream},
      .sub_allow =
          {// From the hub: its requests to this site's JetStream API (the source's
           // consumer), the flow-control answers, and replies to the site's agents.
           fmt::format("$JS.{}.API.>", site), "$JS.FC." + stream + ".>", "_INBOX.>",
           std::string(kEnrollInboxPrefix) + ".>"},
  };
}

}  // namespace

std::string leaf_credentials(const Identity& identity, std::string_view site) {
  auto user = KeyPair::generate(KeyRole::kUser);
  auto jwt = encode_jwt(user_claims(user.public_key(), leaf_user_spec(site)), identity.rmm_account);
  return format_creds(jwt, user.seed());
}

boost::json::object site_source(std::string_view site) {
  return boost::json::object{
      {"name", kSiteEventsStream},
      // nats.c 3.4.1 crashes on a NULL deliver prefix; nats-server takes "" as none.
      {"external", boost::json::object{{"api", fmt::format("$JS.{}.API", site)}, {"deliver", ""}}},
  };
}

bool is_site_source(const boost::json::value& source, std::string_view site) {
  const auto* o = source.if_object();
  if (o == nullptr) return false;
  const auto* name = o->if_contains("name");
  const auto* external = o->if_contains("external");
  if (name == nullptr || !name->is_string() || name->as_string() != kSiteEventsStream) return false;
  if (external == nullptr || !external->is_object()) return false;
  const auto* api = external->as_object().if_contains("api");
  return api != nullptr && api->is_string() && api->as_string() == fmt::format("$JS.{}.API", site);
}

}  // namespace rmm::broker
