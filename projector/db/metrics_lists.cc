#include "projector/db/metrics_lists.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <iterator>
#include <string_view>

#include "projector/db/sql_text.h"

namespace rmm::projector::db {
namespace {

// Appends one item's fields to `out`: `[v1,v2,...]` or `{"k1":v1,"k2":v2,...}`. The shape is a
// template parameter so the raw rows' renderer has no key code at all.
template <ListShape kShape>
class ItemWriter {
 public:
  explicit ItemWriter(std::string& out) : out_(out) { out_ += kArrays ? '[' : '{'; }
  void text(std::string_view key, std::string_view value) {
    field(key);
    append_json_string(out_, value);
  }
  // Integers as decimal, floats as the shortest text that reads back as the same float.
  template <class Number>
  void number(std::string_view key, Number value) {
    field(key);
    fmt::format_to(std::back_inserter(out_), FMT_COMPILE("{}"), value);
  }
  void close() { out_ += kArrays ? ']' : '}'; }

 private:
  static constexpr bool kArrays = kShape == ListShape::kArrays;
  void field(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    if constexpr (!kArrays) {
      out_ += '"';
      out_ += key;
      out_ += "\":";
    }
  }
  std::string& out_;
  bool first_ = true;
};

// The field lists: the only place that names the fields and fixes their order.
template <class Item>
void fields(Item& w, const FilesystemRow& f) {
  w.text("mount", f.mount);
  w.text("fstype", f.fstype);
  w.text("device", f.device);
  w.number("used_bytes", f.used_bytes);
  w.number("total_bytes", f.total_bytes);
  w.number("inodes_used", f.inodes_used);
  w.number("inodes_total", f.inodes_total);
}

template <class Item>
void fields(Item& w, const DiskRow& d) {
  w.text("name", d.name);
  w.number("reads", d.reads);
  w.number("writes", d.writes);
  w.number("read_bytes", d.read_bytes);
  w.number("write_bytes", d.write_bytes);
  w.number("io_time_ms", d.io_time_ms);
}

template <class Item>
void fields(Item& w, const NetRow& n) {
  w.text("name", n.name);
  w.number("rx_bytes", n.rx_bytes);
  w.number("rx_packets", n.rx_packets);
  w.number("rx_errors", n.rx_errors);
  w.number("rx_drops", n.rx_drops);
  w.number("tx_bytes", n.tx_bytes);
  w.number("tx_packets", n.tx_packets);
  w.number("tx_errors", n.tx_errors);
  w.number("tx_drops", n.tx_drops);
}

template <class Item>
void fields(Item& w, const TemperatureRow& t) {
  w.text("chip", t.chip);
  w.text("label", t.label);
  w.number("celsius", t.celsius);
}

template <ListShape kShape, class Row>
std::string render(const std::vector<Row>& list) {
  std::string out = "[";
  for (const auto& row : list) {
    if (out.size() > 1) out += ',';
    ItemWriter<kShape> item(out);
    fields(item, row);
    item.close();
  }
  out += ']';
  return out;
}

template <class Row>
std::string render(const std::vector<Row>& list, ListShape shape) {
  return shape == ListShape::kArrays ? render<ListShape::kArrays>(list)
                                     : render<ListShape::kObjects>(list);
}

}  // namespace

std::string filesystems_json(const std::vector<FilesystemRow>& list, ListShape shape) {
  return render(list, shape);
}

std::string disks_json(const std::vector<DiskRow>& list, ListShape shape) {
  return render(list, shape);
}

std::string net_json(const std::vector<NetRow>& list, ListShape shape) {
  return render(list, shape);
}

std::string temperatures_json(const std::vector<TemperatureRow>& list, ListShape shape) {
  return render(list, shape);
}

}  // namespace rmm::projector::db
