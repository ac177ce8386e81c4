#include "common/metrics.h"

#include <doctest/doctest.h>

using namespace rmm;

TEST_CASE("the text exposition: counters, gauges, histograms and escaped label values") {
  metrics::Registry r;
  r.counter("t_requests_total", "Requests\nseen \\ here", {"route"});
  r.gauge("t_up", "Up");
  r.histogram("t_seconds", "Durations", {0.1, 1}, {"kind"});
  r.add("t_requests_total", 2, {"a\"b\\c\nd"});
  r.add("t_requests_total", -5, {"a\"b\\c\nd"});    // counters never go down
  r.add("t_requests_total", 1, {"x", "too many"});  // ignored: wrong label count
  r.set("t_up", 1);
  r.observe("t_seconds", 0.05, {"k"});
  r.observe("t_seconds", 0.5, {"k"});
  r.observe("t_seconds", 7, {"k"});
  CHECK(r.value("t_requests_total", {"a\"b\\c\nd"}) == 2);
  CHECK(r.value("t_seconds", {"k"}) == 3);
  CHECK(r.render() ==
        "# HELP t_requests_total Requests\\nseen \\\\ here\n"
        "# TYPE t_requests_total counter\n"
        "t_requests_total{route=\"a\\\"b\\\\c\\nd\"} 2\n"
        "# HELP t_seconds Durations\n"
        "# TYPE t_seconds histogram\n"
        "t_seconds_bucket{kind=\"k\",le=\"0.1\"} 1\n"
        "t_seconds_bucket{kind=\"k\",le=\"1\"} 2\n"
        "t_seconds_bucket{kind=\"k\",le=\"+Inf\"} 3\n"
        "t_seconds_sum{kind=\"k\"} 7.55\n"
        "t_seconds_count{kind=\"k\"} 3\n"
        "# HELP t_up Up\n"
        "# TYPE t_up gauge\n"
        "t_up 1\n");
}

TEST_CASE("an unlabelled family is exposed at zero before its first update") {
  metrics::Registry r;
  r.counter("t_total", "T");
  r.histogram("t_h", "H", {1});
  CHECK(r.render() ==
        "# HELP t_h H\n# TYPE t_h histogram\nt_h_bucket{le=\"1\"} 0\nt_h_bucket{le=\"+Inf\"} 0\n"
        "t_h_sum 0\nt_h_count 0\n"
        "# HELP t_total T\n# TYPE t_total counter\nt_total 0\n");
}
