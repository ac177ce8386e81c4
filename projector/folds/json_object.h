// A flat JSON object written field by field, for the audit log's detail documents. Values must be
// valid UTF-8 (storable text is).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "projector/db/sql_text.h"

namespace rmm::projector {

class JsonObject {
 public:
  JsonObject& str(std::string_view key, std::string_view value) {
    this->key(key);
    db::append_json_string(out_, value);
    return *this;
  }
  JsonObject& num(std::string_view key, std::int64_t value) {
    this->key(key);
    out_ += fmt::format("{}", value);
    return *this;
  }
  JsonObject& boolean(std::string_view key, bool value) {
    this->key(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  // `json` must already be valid JSON.
  JsonObject& raw(std::string_view key, std::string_view json) {
    this->key(key);
    out_ += json;
    return *this;
  }
  std::string take() { return std::move(out_) + "}"; }

 private:
  void key(std::string_view k) {
    if (out_.size() > 1) out_ += ',';
    db::append_json_string(out_, k);
    out_ += ':';
  }
  std::string out_ = "{";
};

}  // namespace rmm::projector
