// A response body produced over time (Server-Sent Events): a handler that wants to stream puts a
// StreamSource into RequestContext::stream and returns the response head (status 200, headers,
// empty body). The session then writes the head, and after it whatever take() yields, until the
// source ends, a write fails, or the server shuts down; the connection is closed afterwards (the
// body is delimited by the close, so no keep-alive).
//
// Concurrency: start(), take(), heartbeat() and stop() run on the session's strand, one at a time;
// the `wake` callback may be called from any thread, any number of times (also after stop(): it is
// then a no-op).
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace rmm::api {

class StreamSource {
 public:
  virtual ~StreamSource() = default;

  // Called once when the head has been queued. Call `wake` whenever take() has something.
  virtual void start(std::function<void()> wake) = 0;
  // Bytes to write now (empty: nothing). Sets `ended` when nothing more will come.
  virtual std::string take(bool& ended) = 0;
  // Written when the stream was idle for heartbeat_interval() (keeps proxies and the client's
  // connection alive, and finds clients that left).
  virtual std::string heartbeat() = 0;
  virtual std::chrono::milliseconds heartbeat_interval() const = 0;
  // The connection is done (client gone, write failed, shutdown). Called exactly once.
  virtual void stop() = 0;
};

}  // namespace rmm::api
