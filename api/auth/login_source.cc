#include "api/auth/login_source.h"

#include <algorithm>
#include <optional>

namespace rmm::api {
namespace {

namespace ip = boost::asio::ip;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<ip::address> parse_address(std::string_view text) {
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(trim(text)), ec);
  if (ec) return std::nullopt;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return ip::address(ip::make_address_v4(ip::v4_mapped, a.to_v6()));
  }
  return a;
}

std::string key_of(const ip::address& a) {
  if (a.is_v4()) return a.to_string();
  auto bytes = a.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return ip::address_v6(bytes).to_string() + "/64";
}

bool trusted(const ip::address& a, const std::vector<ip::address>& proxies) {
  return std::find(proxies.begin(), proxies.end(), a) != proxies.end();
}

}  // namespace

Result<std::vector<ip::address>> parse_trusted_proxies(std::string_view text) {
  std::vector<ip::address> out;
  while (!trim(text).empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    auto a = parse_address(item);
    if (!a) return failf("'{}' is not an IP address", trim(item));
    out.push_back(*a);
  }
  return out;
}

std::string login_source(std::string_view peer, const Request& req,
                         const std::vector<ip::address>& trusted_proxies) {
  auto source = parse_address(peer);
  if (!source) return "unknown";
  if (trusted(*source, trusted_proxies)) {
    // Right to left: each trusted proxy appended the address it saw; the first entry a trusted
    // proxy did not write is the client. Bounded by the header's size (16 KiB).
    auto it = req.find("X-Forwarded-For");
    if (it != req.end()) {
      std::string_view list(it->value().data(), it->value().size());
      while (!list.empty()) {
        auto comma = list.rfind(',');
        std::string_view item = comma == std::string_view::npos ? list : list.substr(comma + 1);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(0, comma);
        auto a = parse_address(item);
        if (!a) break;  // garbage: keep the last address a trusted proxy vouched for
        source = *a;
        if (!trusted(*a, trusted_proxies)) break;
      }
    }
  }
  return key_of(*source);
}

}  // namespace rmm::api
