// rmm-bench-roundtrip: the command round trip through a running platform (issue 8 §3): sign in
// to rmm-api, POST a `true` command to one agent, poll GET /api/v1/commands/{id} until the
// result is visible (completed, exit code 0); N times, one after the other. The time of one round
// trip runs from just before the POST to the first read that shows the result, so it includes the
// API's intent, JetStream, the agent's run, its report through its outbox, the projector's fold
// and the API's read (and up to one poll interval).
//
//   rmm-bench-roundtrip --api-url http://127.0.0.1:8080 --user admin --password-file FILE
//                       --agent ID [--count 20] [--timeout 10s] [--poll-ms 5]
//
// Prints name=value lines on stdout (count, ok, failed, p50_ms, p99_ms, max_ms, mean_ms) for
// tools/rmm bench, and a summary on stderr. Exit status 0 when every command came back, 1 when
// any failed or timed out, 2 for a usage error or when signing in fails.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/config.h"
#include "tests/fixtures/http_client.h"

namespace {

using namespace std::chrono_literals;
using rmm::config::Setting;
using Type = rmm::config::Type;
using Steady = std::chrono::steady_clock;
using rmm::test::http_request;

constexpr std::array kSettings{
    Setting{"api-url", Type::kString, "http://127.0.0.1:8080", "rmm-api base URL (127.0.0.1)"},
    Setting{"user", Type::kString, "admin", "user to sign in as (technician or above)"},
    Setting{"password-file", Type::kString, "", "file holding the user's password", 0, 0, true},
    Setting{"agent", Type::kString, "", "agent id to run the commands on", 0, 0, true},
    Setting{"count", Type::kInt, "20", "round trips measured (after one warm-up)", 1, 100'000},
    Setting{"timeout", Type::kDuration, "10s", "limit for one round trip", 100, 600'000},
    Setting{"poll-ms", Type::kInt, "5", "pause between reads of the command", 1, 1000},
};

// "http://127.0.0.1:8080" -> 8080 (the fixtures' client talks to 127.0.0.1 only).
int port_of(const std::string& url) {
  auto colon = url.rfind(':');
  if (colon == std::string::npos || url.find("127.0.0.1") == std::string::npos) return 0;
  std::string tail = url.substr(colon + 1);
  while (!tail.empty() && tail.back() == '/') tail.pop_back();
  try {
    return std::stoi(tail);
  } catch (const std::exception&) {
    return 0;
  }
}

std::string json_field(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string sign_in(int port, const std::string& user, const std::string& password) {
  boost::json::object body{{"username", user}, {"password", password}};
  auto res = http_request(port, "POST", "/api/v1/auth/login", boost::json::serialize(body),
                          {{"content-type", "application/json"}});
  if (res.status != 200) {
    throw std::runtime_error(fmt::format("sign-in answered {}: {}", res.status, res.body));
  }
  return json_field(boost::json::parse(res.body).as_object(), "token");
}

struct Outcome {
  bool ok = false;
  double ms = 0;
  std::string why;
};

// One command: POST, then reads until a final status or the deadline.
Outcome round_trip(int port, const std::string& token, const std::string& agent,
                   std::chrono::milliseconds timeout, std::chrono::milliseconds poll) {
  const std::map<std::string, std::string> headers{{"authorization", "Bearer " + token},
                                                   {"content-type", "application/json"}};
  boost::json::object body{{"agent_ids", boost::json::array{boost::json::string(agent)}},
                           {"kind", "shell"},
                           {"script", "true"},
                           {"timeout_s", 30}};
  const auto t0 = Steady::now();
  const auto deadline = t0 + timeout;
  auto res = http_request(port, "POST", "/api/v1/commands", boost::json::serialize(body), headers);
  if (res.status != 202)
    return {false, 0, fmt::format("POST answered {}: {}", res.status, res.body)};
  const boost::json::value posted = boost::json::parse(res.body);
  const auto& commands = posted.as_object().at("commands").as_array();
  if (commands.size() != 1) return {false, 0, "POST issued " + std::to_string(commands.size())};
  const std::string id = json_field(commands[0].as_object(), "id");
  std::string status;
  while (Steady::now() < deadline) {
    auto read = http_request(port, "GET", "/api/v1/commands/" + id, {}, headers);
    if (read.status == 200) {
      auto o = boost::json::parse(read.body).as_object();
      status = json_field(o, "status");
      if (status == "completed") {
        const double ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
        auto* code = o.if_contains("exit_code");
        if (code == nullptr || !code->is_int64() || code->as_int64() != 0) {
          return {false, ms,
                  "completed with exit code " +
                      (code != nullptr ? boost::json::serialize(*code) : std::string("none"))};
        }
        return {true, ms, {}};
      }
      if (status != "queued" && status != "received" && status != "started") {
        return {false, 0, "command " + id + " ended " + status};
      }
    } else if (read.status != 404) {  // 404: the projector has not folded the intent yet
      return {false, 0, fmt::format("GET answered {}: {}", read.status, read.body)};
    }
    std::this_thread::sleep_for(poll);
  }
  return {false, 0, fmt::format("command {} still {} after {} ms", id, status, timeout.count())};
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  auto values = rmm::config::Values::load(kSettings, argc, argv);
  if (!values) {
    std::fprintf(stderr, "rmm-bench-roundtrip: %s\n", values.error().message.c_str());
    return 2;
  }
  if (values->help_requested()) {
    std::fputs(rmm::config::usage("rmm-bench-roundtrip --password-file FILE --agent ID "
                                  "[--setting=value ...]",
                                  "Command round trip through rmm-api: POST `true`, poll the "
                                  "result; p50/p99/max.",
                                  kSettings)
                   .c_str(),
               stdout);
    return 0;
  }
  const int port = port_of(values->str("api-url"));
  if (port <= 0) {
    std::fprintf(stderr, "rmm-bench-roundtrip: --api-url must be http://127.0.0.1:<port>\n");
    return 2;
  }
  std::ifstream pw(values->str("password-file"));
  std::string password;
  std::getline(pw, password);
  if (password.empty()) {
    std::fprintf(stderr, "rmm-bench-roundtrip: no password in %s\n",
                 values->str("password-file").c_str());
    return 2;
  }
  const auto timeout = values->duration("timeout");
  const auto poll = std::chrono::milliseconds(values->integer("poll-ms"));
  const int count = static_cast<int>(values->integer("count"));
  const std::string agent = values->str("agent");
  std::vector<double> ms;
  int failed = 0;
  std::string last_error;
  try {
    const std::string token = sign_in(port, values->str("user"), password);
    // Warm-up: the first command of an agent's subscription and the API's first statements.
    if (auto w = round_trip(port, token, agent, timeout, poll); !w.ok) {
      std::fprintf(stderr, "rmm-bench-roundtrip: warm-up: %s\n", w.why.c_str());
      return 1;
    }
    for (int i = 0; i < count; ++i) {
      auto r = round_trip(port, token, agent, timeout, poll);
      if (r.ok) {
        ms.push_back(r.ms);
      } else {
        ++failed;
        last_error = r.why;
        std::fprintf(stderr, "rmm-bench-roundtrip: %s\n", r.why.c_str());
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rmm-bench-roundtrip: %s\n", e.what());
    return 2;
  }
  std::sort(ms.begin(), ms.end());
  double sum = 0;
  for (double v : ms) sum += v;
  const double mean = ms.empty() ? 0 : sum / static_cast<double>(ms.size());
  std::printf("count=%d\nok=%zu\nfailed=%d\np50_ms=%.1f\np99_ms=%.1f\nmax_ms=%.1f\nmean_ms=%.1f\n",
              count, ms.size(), failed, percentile(ms, 0.50), percentile(ms, 0.99),
              ms.empty() ? 0.0 : ms.back(), mean);
  std::fprintf(
      stderr, "rmm-bench-roundtrip: %zu/%d round trips: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
      ms.size(), count, percentile(ms, 0.50), percentile(ms, 0.99), ms.empty() ? 0.0 : ms.back());
  return failed == 0 ? 0 : 1;
}
