#include "common/metrics.h"

#include <charconv>
#include <cmath>

namespace rmm::metrics {

namespace {

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

// HELP text escapes only \ and newline.
std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

// `{a="x",b="y"}` (with `extra` appended, for le), or "" with no labels.
std::string label_text(const std::vector<std::string>& names, const Labels& values,
                       std::string_view extra = {}) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += out.empty() ? "{" : ",";
    out += names[i] + "=\"" + escape_label(values[i]) + "\"";
  }
  if (!extra.empty()) {
    out += out.empty() ? "{" : ",";
    out += extra;
  }
  if (!out.empty()) out += "}";
  return out;
}

}  // namespace

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::vector<double> latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

void Registry::declare(std::string name, Kind kind, std::string help,
                       std::vector<std::string> labels, std::vector<double> buckets) {
  std::lock_guard lock(mu_);
  if (families_.contains(name)) return;
  families_.emplace(std::move(name),
                    Family{kind, std::move(help), std::move(labels), std::move(buckets), {}});
}

void Registry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
  declare(std::move(name), Kind::kCounter, std::move(help), std::move(label_names), {});
}

void Registry::gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  declare(std::move(name), Kind::kGauge, std::move(help), std::move(label_names), {});
}

void Registry::histogram(std::string name, std::string help, std::vector<double> buckets,
                         std::vector<std::string> label_names) {
  declare(std::move(name), Kind::kHistogram, std::move(help), std::move(label_names),
          std::move(buckets));
}

Registry::Series* Registry::find(std::string_view name, Kind kind, const Labels& labels) {
  auto it = families_.find(name);
  if (it == families_.end() || it->second.kind != kind) return nullptr;
  Family& f = it->second;
  if (labels.size() != f.label_names.size()) return nullptr;
  auto [s, created] = f.series.try_emplace(labels);
  if (created && kind == Kind::kHistogram) s->second.hits.assign(f.buckets.size(), 0);
  return &s->second;
}

void Registry::add(std::string_view name, double v, const Labels& labels) {
  std::lock_guard lock(mu_);
  if (v < 0) return;  // counters only go up
  if (auto* s = find(name, Kind::kCounter, labels)) s->value += v;
}

void Registry::set(std::string_view name, double v, const Labels& labels) {
  std::lock_guard lock(mu_);
  if (auto* s = find(name, Kind::kGauge, labels)) s->value = v;
}

void Registry::observe(std::string_view name, double v, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto* s = find(name, Kind::kHistogram, labels);
  if (s == nullptr) return;
  const auto& buckets = families_.find(name)->second.buckets;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (v <= buckets[i]) {
      ++s->hits[i];
      break;
    }
  }
  s->value += v;
  ++s->count;
}

double Registry::value(std::string_view name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto s = it->second.series.find(labels);
  if (s == it->second.series.end()) return 0;
  return it->second.kind == Kind::kHistogram ? static_cast<double>(s->second.count)
                                             : s->second.value;
}

std::string Registry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    const char* type = f.kind == Kind::kCounter ? "counter"
                       : f.kind == Kind::kGauge ? "gauge"
                                                : "histogram";
    out += "# HELP " + name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + name + " " + type + "\n";
    // An unlabelled family shows 0 before its first update, so dashboards see it at once.
    std::map<Labels, Series> zero;
    if (f.series.empty() && f.label_names.empty()) {
      zero[{}].hits.assign(f.buckets.size(), 0);
    }
    for (const auto& [labels, s] : f.series.empty() ? zero : f.series) {
      if (f.kind != Kind::kHistogram) {
        out += name + label_text(f.label_names, labels) + " " + number(s.value) + "\n";
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < f.buckets.size(); ++i) {
        cumulative += s.hits[i];
        out += name + "_bucket" +
               label_text(f.label_names, labels, "le=\"" + number(f.buckets[i]) + "\"") + " " +
               std::to_string(cumulative) + "\n";
      }
      out += name + "_bucket" + label_text(f.label_names, labels, "le=\"+Inf\"") + " " +
             std::to_string(s.count) + "\n";
      out += name + "_sum" + label_text(f.label_names, labels) + " " + number(s.value) + "\n";
      out += name + "_count" + label_text(f.label_names, labels) + " " + std::to_string(s.count) +
             "\n";
    }
  }
  return out;
}

}  // namespace rmm::metrics
