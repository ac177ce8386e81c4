// Network adapters with their hardware and IP addresses.
#include <fmt/format.h>

#include <vector>

#include "agent/platform/collectors.h"
#include "agent/platform/text_limits.h"
#include "agent/platform/windows/sdk_windows.h"
#include "common/platform/windows/wide_text.h"

namespace rmm::agent::platform {
namespace {

std::string format_mac(const IP_ADAPTER_ADDRESSES& a) {
  std::string mac;
  for (ULONG i = 0; i < a.PhysicalAddressLength && i < 8; ++i) {
    mac += fmt::format("{}{:02x}", i ? ":" : "", a.PhysicalAddress[i]);
  }
  return mac;
}

// "address/prefix", as Linux reports. inet_ntop needs no WSAStartup.
std::string format_address(const IP_ADAPTER_UNICAST_ADDRESS& u) {
  const sockaddr* sa = u.Address.lpSockaddr;
  if (sa == nullptr) return {};
  char text[INET6_ADDRSTRLEN] = {};
  const void* src = nullptr;
  if (sa->sa_family == AF_INET) {
    src = &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr;
  } else if (sa->sa_family == AF_INET6) {
    src = &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
  } else {
    return {};
  }
  if (::inet_ntop(sa->sa_family, src, text, sizeof text) == nullptr) return {};
  return fmt::format("{}/{}", text, static_cast<unsigned>(u.OnLinkPrefixLength));
}

Result<std::vector<std::byte>> adapter_addresses() {
  constexpr ULONG kFlags =
      GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER;
  ULONG size = 16 * 1024;  // Microsoft's advice: start at 15 KB, which fits most machines
  std::vector<std::byte> buffer;
  for (int attempt = 0; attempt < 4; ++attempt) {
    buffer.assign(size, std::byte{0});
    const ULONG status = ::GetAdaptersAddresses(
        AF_UNSPEC, kFlags, nullptr, reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buffer.data()), &size);
    if (status == NO_ERROR) return buffer;
    if (status == ERROR_NO_DATA) return std::vector<std::byte>();
    if (status != ERROR_BUFFER_OVERFLOW) {
      return std::unexpected(rmm::win::win32_error("GetAdaptersAddresses", status));
    }
  }
  return fail("GetAdaptersAddresses: the adapter list kept growing");
}

}  // namespace

Status collect_interfaces(codec::InventoryInfo& out) {
  auto buffer = adapter_addresses();
  if (!buffer) return std::unexpected(buffer.error());
  std::vector<codec::NetInterfaceInfo> result;
  const auto* a =
      buffer->empty() ? nullptr : reinterpret_cast<const IP_ADAPTER_ADDRESSES*>(buffer->data());
  for (; a != nullptr && result.size() < kMaxNetInterfaces; a = a->Next) {
    codec::NetInterfaceInfo iface;
    iface.name = clip_text(a->FriendlyName != nullptr ? rmm::win::to_utf8(a->FriendlyName)
                                                      : std::string(a->AdapterName));
    iface.mac = format_mac(*a);
    for (const auto* u = a->FirstUnicastAddress;
         u != nullptr && iface.addresses.size() < kMaxAddressesPerInterface; u = u->Next) {
      auto text = format_address(*u);
      if (!text.empty()) iface.addresses.push_back(std::move(text));
    }
    result.push_back(std::move(iface));
  }
  out.interfaces = std::move(result);
  return {};
}

}  // namespace rmm::agent::platform
