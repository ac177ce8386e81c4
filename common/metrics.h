// A minimal Prometheus registry and its text exposition (format 0.0.4): counters, gauges and
// histograms (cumulative _bucket with le, _sum, _count), with labels. Debian 12 has no
// prometheus-cpp package, and the services need only this much.
//
// Metric and label names are fixed by the code; label values are escaped (\\, \", \n). Values
// must be counts or durations only: nothing naming a tenant, site or agent (docs/operations.md).
//
// Concurrency: every member is thread-safe (one mutex; updates are per request or per batch).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace rmm::metrics {

using Labels = std::vector<std::string>;  // values, in the order of the family's label names

class Registry {
 public:
  // Declares a family; declaring an existing name again is a no-op. Histogram buckets are upper
  // bounds in increasing order (+Inf is implicit).
  void counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  void gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  void histogram(std::string name, std::string help, std::vector<double> buckets,
                 std::vector<std::string> label_names = {});

  // Updates a series (created at zero on first use). Unknown names or a wrong number of label
  // values are ignored: metrics never fail the caller.
  void add(std::string_view name, double v, const Labels& labels = {});
  void set(std::string_view name, double v, const Labels& labels = {});
  void observe(std::string_view name, double v, const Labels& labels = {});

  // A series' value (counter, gauge) or count (histogram); 0 when absent. For tests and gauges.
  double value(std::string_view name, const Labels& labels = {}) const;

  // The whole registry in the text exposition format, families in name order.
  std::string render() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Series {
    double value = 0;                 // counter, gauge; histogram: sum
    std::uint64_t count = 0;          // histogram
    std::vector<std::uint64_t> hits;  // histogram: per bucket, not cumulative
  };
  struct Family {
    Kind kind;
    std::string help;
    std::vector<std::string> label_names;
    std::vector<double> buckets;
    std::map<Labels, Series> series;
  };
  void declare(std::string name, Kind kind, std::string help, std::vector<std::string> labels,
               std::vector<double> buckets);
  Series* find(std::string_view name, Kind kind, const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
};

// Escapes a label value for the exposition format.
std::string escape_label(std::string_view v);

// Latency buckets in seconds, 1 ms to 10 s.
std::vector<double> latency_buckets();

}  // namespace rmm::metrics
