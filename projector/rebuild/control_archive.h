// The control-event archive (RMM_CONTROL, broker-config/streams/rmm_events_control.json): a stream
// with no subjects of its own that sources every rmm.ctl.> message of RMM_EVENTS, in order, and
// keeps it for ever. Each copy keeps its subject, payload and headers and gains
// `Nats-Stream-Source: RMM_EVENTS <origin seq>`. When RMM_EVENTS no longer holds a range of
// sequences (telemetry aged out, or discarded at a limit), the control events of that range are
// read from here, each under its origin sequence, so a replay keeps the control plane.
//
// Before it hands out a range, the archive must be shown to have sourced past it: its last origin
// sequence reaches the range's end, or RMM_EVENTS' last control event (then nothing in between
// was a control event, or it is still in RMM_EVENTS). It waits a bounded time for a lagging
// archive and otherwise fails, naming the lag; it never returns a range it cannot vouch for.
//
// Concurrency: one owner thread.
// Limitations: it cannot tell whether control events aged out of RMM_EVENTS before the archive
// was created (a deployment that lost them before it was added): `rmm-projector rebuild` compares
// the rebuilt audit log with the live one for that (rebuild/commands.cc). The origin sequence is
// parsed from the header as nats-server 2.9 writes it ("<origin> <seq>", later versions append
// more fields, which are ignored).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.h"
#include "common/nats_connection.h"
#include "common/result.h"
#include "projector/rebuild/ordered_stream.h"

namespace rmm::projector::rebuild {

inline constexpr std::string_view kControlArchive = "RMM_CONTROL";
inline constexpr std::string_view kControlSubjects = "rmm.ctl.>";

// The origin sequence of `header` (a Nats-Stream-Source value) when it names `origin`.
std::optional<StreamSeq> origin_seq(std::string_view header, std::string_view origin);

class ControlArchive {
 public:
  // Checks that `archive` exists (else kNotFound) and sources the control events of `origin`
  // (else kInvalidInput).
  static Result<std::unique_ptr<ControlArchive>> open(nats::Connection& conn, std::string archive,
                                                      std::string origin);
  ControlArchive(const ControlArchive&) = delete;
  ControlArchive& operator=(const ControlArchive&) = delete;

  // Appends to `out`, in origin order and each under its origin sequence, the archived messages
  // whose origin sequence lies in [from, to], at most `max` of them; true when none is left in
  // the range. Calls must ask for increasing sequences: the first call's `from` is where reading
  // starts (found by bisection, so a range near the end of a long archive is read quickly).
  Result<bool> read(StreamSeq from, StreamSeq to, std::vector<StreamMessage>& out, std::size_t max);

  // How long read() waits for a lagging archive before it fails.
  void set_catch_up_wait(std::chrono::milliseconds wait) { catch_up_wait_ = wait; }

 private:
  ControlArchive(nats::Connection& conn, std::string archive, std::string origin)
      : conn_(conn), archive_(std::move(archive)), origin_(std::move(origin)) {}
  // Waits until the archive has sourced past `to`; sets readable_through_.
  Status ensure_covers(StreamSeq to);
  // The archive's last origin sequence (0 when it is empty) and its last own sequence.
  Status read_tail(StreamSeq& last_origin, StreamSeq& last_own);
  // The archive's first own sequence whose origin sequence is `from` or later (past its end when
  // there is none): each origin sequence is archived after every lower one.
  Result<StreamSeq> start_for(StreamSeq from);
  // The origin's last control event (0 when it holds none).
  Result<StreamSeq> origin_last_control();
  std::string lag_text();

  nats::Connection& conn_;
  std::string archive_, origin_;
  std::chrono::milliseconds catch_up_wait_{30'000};
  std::unique_ptr<OrderedStream> stream_;
  StreamSeq covered_;                  // origin sequences shown to be archived (ensure_covers)
  StreamSeq readable_through_;         // the archive's own sequences known to be complete
  StreamSeq read_through_;             // the archive's own sequence read so far
  StreamSeq last_origin_;              // of the last message read
  std::optional<StreamMessage> held_;  // read, past the last range asked for (origin seq)
};

}  // namespace rmm::projector::rebuild
