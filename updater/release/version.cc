#include "updater/release/version.h"

#include <charconv>
#include <cstdint>
#include <utility>

namespace rmm::release {
namespace {

// Splits "1.2.3-rc1" into the numeric core "1.2.3" and the suffix "rc1".
std::pair<std::string_view, std::string_view> split(std::string_view v) {
  auto dash = v.find('-');
  if (dash == std::string_view::npos) return {v, {}};
  return {v.substr(0, dash), v.substr(dash + 1)};
}

std::string_view next_part(std::string_view& s) {
  auto dot = s.find('.');
  auto part = s.substr(0, dot);
  s = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  return part;
}

int compare_part(std::string_view a, std::string_view b) {
  std::uint64_t x = 0, y = 0;
  auto ra = std::from_chars(a.data(), a.data() + a.size(), x);
  auto rb = std::from_chars(b.data(), b.data() + b.size(), y);
  bool na = ra.ec == std::errc() && ra.ptr == a.data() + a.size();
  bool nb = rb.ec == std::errc() && rb.ptr == b.data() + b.size();
  if (na && nb) return x < y ? -1 : (x > y ? 1 : 0);
  if (na != nb) return na ? -1 : 1;  // numbers sort before words
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
  auto [core_a, pre_a] = split(a);
  auto [core_b, pre_b] = split(b);
  while (!core_a.empty() || !core_b.empty()) {
    auto pa = next_part(core_a);
    auto pb = next_part(core_b);
    if (pa.empty()) pa = "0";
    if (pb.empty()) pb = "0";
    if (int c = compare_part(pa, pb); c != 0) return c;
  }
  if (pre_a.empty() != pre_b.empty()) return pre_a.empty() ? 1 : -1;
  while (!pre_a.empty() || !pre_b.empty()) {
    if (pre_a.empty() || pre_b.empty()) return pre_a.empty() ? -1 : 1;
    if (int c = compare_part(next_part(pre_a), next_part(pre_b)); c != 0) return c;
  }
  return 0;
}

}  // namespace rmm::release
