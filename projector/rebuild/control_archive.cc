#include "projector/rebuild/control_archive.h"

#include <fmt/format.h>

#include <charconv>
#include <thread>

namespace rmm::projector::rebuild {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

// The archive is local and already holds what is read: a silence this long is a broken consumer.
constexpr auto kReadWait = 10s;
constexpr auto kPollInterval = 200ms;

struct JsContext {
  jsCtx* js = nullptr;
  ~JsContext() {
    if (js != nullptr) jsCtx_Destroy(js);
  }
};

Status open_js(nats::Connection& conn, JsContext& out) {
  if (natsStatus s = natsConnection_JetStream(&out.js, conn.raw(), nullptr); s != NATS_OK) {
    return std::unexpected(nats::to_error(s, "creating JetStream context"));
  }
  return {};
}

bool is_not_found(natsStatus s, jsErrCode code) {
  return s == NATS_NOT_FOUND || code == JSNoMessageFoundErr || code == JSStreamNotFoundErr;
}

bool covers_control(const char* filter) {
  const std::string_view f = filter != nullptr ? filter : "";
  return f.empty() || f == ">" || f == kControlSubjects;
}

}  // namespace

std::optional<StreamSeq> origin_seq(std::string_view header, std::string_view origin) {
  const auto space = header.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto name = header.substr(0, space);
  // Later nats-server versions name a source "<stream>:<hash>" when it has a filter.
  if (name != origin &&
      !(name.starts_with(origin) && name.size() > origin.size() && name[origin.size()] == ':')) {
    return std::nullopt;
  }
  auto rest = header.substr(space + 1);
  rest = rest.substr(0, rest.find(' '));
  std::uint64_t seq = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), seq);
  if (ec != std::errc() || end != rest.data() + rest.size() || seq == 0) return std::nullopt;
  return StreamSeq{seq};
}

Result<std::unique_ptr<ControlArchive>> ControlArchive::open(nats::Connection& conn,
                                                             std::string archive,
                                                             std::string origin) {
  JsContext ctx;
  if (auto st = open_js(conn, ctx); !st) return std::unexpected(st.error());
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, ctx.js, archive.c_str(), nullptr, &code);
  if (is_not_found(s, code)) {
    return fail(Error::Code::kNotFound,
                fmt::format("the control archive {} does not exist (rmm-admin apply-streams "
                            "creates it; control events that aged out of {} before it existed "
                            "are lost)",
                            archive, origin));
  }
  if (s != NATS_OK) return std::unexpected(nats::to_error(s, "looking up stream " + archive));
  bool sources = false;
  for (int i = 0; si->Config != nullptr && i < si->Config->SourcesLen; ++i) {
    const jsStreamSource* src = si->Config->Sources[i];
    if (src != nullptr && src->Name != nullptr && origin == src->Name &&
        covers_control(src->FilterSubject)) {
      sources = true;
    }
  }
  jsStreamInfo_Destroy(si);
  if (!sources) {
    return fail(Error::Code::kInvalidInput,
                fmt::format("stream {} does not source the control events ({}) of {}: it is no "
                            "control archive (see broker-config/streams/rmm_events_control.json)",
                            archive, kControlSubjects, origin));
  }
  return std::unique_ptr<ControlArchive>(
      new ControlArchive(conn, std::move(archive), std::move(origin)));
}

Status ControlArchive::read_tail(StreamSeq& last_origin, StreamSeq& last_own) {
  auto st = stream_state(conn_, archive_);
  if (!st) return std::unexpected(st.error());
  last_own = st->last;
  last_origin = StreamSeq{};
  if (st->messages == 0) return {};
  JsContext ctx;
  if (auto o = open_js(conn_, ctx); !o) return o;
  natsMsg* m = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetMsg(&m, ctx.js, archive_.c_str(), st->last.value, nullptr, &code);
  if (s != NATS_OK) {
    return std::unexpected(
        nats::to_error(s, fmt::format("reading {} sequence {}", archive_, st->last.value)));
  }
  nats::Message msg(m);
  auto origin = origin_seq(msg.header("Nats-Stream-Source").value_or(""), origin_);
  if (!origin) {
    return failf("{} sequence {} does not name its origin in {} (Nats-Stream-Source)", archive_,
                 st->last.value, origin_);
  }
  last_origin = *origin;
  return {};
}

Result<StreamSeq> ControlArchive::origin_last_control() {
  JsContext ctx;
  if (auto o = open_js(conn_, ctx); !o) return std::unexpected(o.error());
  natsMsg* m = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const std::string subjects(kControlSubjects);
  natsStatus s = js_GetLastMsg(&m, ctx.js, origin_.c_str(), subjects.c_str(), nullptr, &code);
  if (is_not_found(s, code) && code != JSStreamNotFoundErr) return StreamSeq{};
  if (s != NATS_OK) {
    return std::unexpected(
        nats::to_error(s, fmt::format("reading the last control event of {}", origin_)));
  }
  StreamSeq seq{natsMsg_GetSequence(m)};
  natsMsg_Destroy(m);
  return seq;
}

Result<StreamSeq> ControlArchive::start_for(StreamSeq from) {
  auto st = stream_state(conn_, archive_);
  if (!st) return std::unexpected(st.error());
  if (st->messages == 0) return st->first;
  JsContext ctx;
  if (auto o = open_js(conn_, ctx); !o) return std::unexpected(o.error());
  // Every own sequence below `lo` has an origin below `from`; `hi` has one at or past it (or is
  // past the end). Bounded: the range halves each pass.
  std::uint64_t lo = st->first.value, hi = st->last.value + 1;
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    natsMsg* m = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_GetMsg(&m, ctx.js, archive_.c_str(), mid, nullptr, &code);
    if (is_not_found(s, code)) break;  // a deleted message: read on from the bound known
    if (s != NATS_OK) {
      return std::unexpected(
          nats::to_error(s, fmt::format("reading {} sequence {}", archive_, mid)));
    }
    nats::Message msg(m);
    auto origin = origin_seq(msg.header("Nats-Stream-Source").value_or(""), origin_);
    if (!origin) {
      return failf("{} sequence {} does not name its origin in {} (Nats-Stream-Source)", archive_,
                   mid, origin_);
    }
    if (*origin < from) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return StreamSeq{lo};
}

std::string ControlArchive::lag_text() {
  JsContext ctx;
  if (!open_js(conn_, ctx)) return "source state unknown";
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  if (js_GetStreamInfo(&si, ctx.js, archive_.c_str(), nullptr, &code) != NATS_OK) {
    return "source state unknown";
  }
  std::string out = "source state unknown";
  for (int i = 0; i < si->SourcesLen; ++i) {
    const jsStreamSourceInfo* src = si->Sources[i];
    if (src == nullptr || src->Name == nullptr || origin_ != src->Name) continue;
    out = src->Active < 0 ? fmt::format("source lag {}, never heard from", src->Lag)
                          : fmt::format("source lag {}, last heard from {} ms ago", src->Lag,
                                        src->Active / 1'000'000);
  }
  jsStreamInfo_Destroy(si);
  return out;
}

Status ControlArchive::ensure_covers(StreamSeq to) {
  if (to <= covered_) return {};
  const auto deadline = Steady::now() + catch_up_wait_;
  // Bounded by the deadline.
  for (;;) {
    StreamSeq last_origin, last_own;
    if (auto st = read_tail(last_origin, last_own); !st) return st;
    auto last_control = origin_last_control();
    if (!last_control) return std::unexpected(last_control.error());
    // Sourcing is in order: an archive that reached `to` (or the last control event the origin
    // still holds, if that is earlier) holds every control event up to `to` that it ever saw.
    if (last_origin >= std::min(to, *last_control)) {
      readable_through_ = std::max(readable_through_, last_own);
      covered_ = to;
      return {};
    }
    if (Steady::now() >= deadline) {
      return failf(
          "the control archive {} is behind {}: it holds control events up to {} "
          "sequence {}, {} holds them up to {} and no longer holds what is needed up to "
          "{} ({}); wait for it to catch up, or see the nats-server log",
          archive_, origin_, origin_, last_origin.value, origin_, last_control->value, to.value,
          lag_text());
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

Result<bool> ControlArchive::read(StreamSeq from, StreamSeq to, std::vector<StreamMessage>& out,
                                  std::size_t max) {
  if (to < from) return true;
  if (auto st = ensure_covers(to); !st) return std::unexpected(st.error());
  std::size_t taken = 0;
  // Bounded: every pass reads one more of the archive's messages, up to readable_through_.
  for (;;) {
    if (held_) {
      if (held_->seq > to) return true;
      if (held_->seq >= from) {
        if (taken == max) return false;
        out.push_back(std::move(*held_));
        ++taken;
      }
      held_.reset();
    }
    if (read_through_ >= readable_through_) return true;
    if (!stream_) {
      // The first range asked for is the lowest: nothing before it is ever read.
      auto start = start_for(from);
      if (!start) return std::unexpected(start.error());
      if (start->value > readable_through_.value) return true;
      auto s = OrderedStream::open(conn_, archive_, *start);
      if (!s) return std::unexpected(s.error());
      stream_ = std::move(*s);
      read_through_ = StreamSeq{start->value - 1};
    }
    auto m = stream_->next(kReadWait);
    if (!m) return std::unexpected(m.error());
    if (!*m) {
      return failf("no message from {} within {} s after sequence {} (it holds up to {})", archive_,
                   std::chrono::seconds(kReadWait).count(), read_through_.value,
                   readable_through_.value);
    }
    read_through_ = (*m)->seq;
    auto origin = origin_seq((*m)->message.header("Nats-Stream-Source").value_or(""), origin_);
    if (!origin) {
      return failf("{} sequence {} does not name its origin in {} (Nats-Stream-Source)", archive_,
                   read_through_.value, origin_);
    }
    if (*origin <= last_origin_) {
      return failf("{} sequence {} has origin sequence {} after {}: the archive is out of order",
                   archive_, read_through_.value, origin->value, last_origin_.value);
    }
    last_origin_ = *origin;
    // The archive's own timestamp: control events are dated by their publisher, never clamped.
    held_ = StreamMessage{*origin, std::move((*m)->message), (*m)->stored_at};
  }
}

}  // namespace rmm::projector::rebuild
