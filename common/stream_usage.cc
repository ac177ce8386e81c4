#include "common/stream_usage.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/nats_message.h"

namespace rmm::nats {

double StreamUsage::used_fraction() const {
  double f = 0;
  if (max_bytes > 0) f = static_cast<double>(bytes) / static_cast<double>(max_bytes);
  if (max_msgs > 0) f = std::max(f, static_cast<double>(messages) / static_cast<double>(max_msgs));
  return f;
}

Result<StreamUsage> read_stream_usage(jsCtx* js, const std::string& stream) {
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js, stream.c_str(), nullptr, &code);
  if (s != NATS_OK) {
    Error e = to_error(s, "stream info of " + stream);
    if (s == NATS_NOT_FOUND || code == JSStreamNotFoundErr) e.code = Error::Code::kNotFound;
    return std::unexpected(e);
  }
  StreamUsage u;
  u.name = stream;
  u.messages = si->State.Msgs;
  u.bytes = si->State.Bytes;
  u.first_seq = si->State.FirstSeq;
  u.last_seq = si->State.LastSeq;
  u.first_time = si->State.Msgs > 0 ? si->State.FirstTime : 0;
  if (si->Config != nullptr) {
    u.max_bytes = si->Config->MaxBytes;
    u.max_msgs = si->Config->MaxMsgs;
    u.max_age_ns = si->Config->MaxAge;
    u.discard_new = si->Config->Discard == js_DiscardNew;
  }
  for (int i = 0; i < si->SourcesLen; ++i) {
    const jsStreamSourceInfo* src = si->Sources[i];
    if (src == nullptr) continue;
    u.sources.push_back({src->Name != nullptr ? src->Name : "", src->Lag, src->Active});
  }
  jsStreamInfo_Destroy(si);
  return u;
}

std::vector<UsageWarning> usage_warnings(const StreamUsage& u, const UsageThresholds& t) {
  std::vector<UsageWarning> out;
  if (u.max_bytes <= 0) {
    out.push_back(
        {Severity::kWarning, fmt::format("{} has no byte limit: it can fill the broker's disk "
                                         "(rmm-admin apply-streams sets one)",
                                         u.name)});
  }
  const double used = u.used_fraction();
  if (u.discard_new && used >= t.error_fraction) {
    out.push_back({Severity::kError,
                   fmt::format("{} is {:.0f} % full: new messages are refused or soon will be; "
                               "raise its limit now",
                               u.name, used * 100)});
  } else if (u.discard_new && used >= t.warn_fraction) {
    out.push_back({Severity::kWarning,
                   fmt::format("{} is {:.0f} % full: at its limit new messages are refused; "
                               "raise it",
                               u.name, used * 100)});
  }
  for (const auto& src : u.sources) {
    const bool idle = src.idle_ns < 0 || src.idle_ns >= t.source_idle_ns;
    if (src.lag > 0 && idle) {
      out.push_back({Severity::kWarning,
                     fmt::format("{} is {} messages behind its source {} and not catching up",
                                 u.name, src.lag, src.name)});
    }
  }
  return out;
}

std::string format_bytes(double bytes) {
  constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

}  // namespace rmm::nats
