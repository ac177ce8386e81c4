// Writes JSON text straight into a string, without building a document first: for list answers
// of hundreds of rows, where boost::json's document (an allocation per object and per long
// string, then a second pass to serialize) was most of rmm-api's own time per request.
//
//   std::string out;
//   JsonWriter w(out);
//   w.begin_object();
//   w.key("items");
//   w.begin_array();
//   ...
//
// Strings are escaped as boost::json escapes them: quote, backslash and control characters;
// other bytes are copied as they are. Doubles are written in their shortest exact form, always
// with a fraction or an exponent ("25.0"), a non-finite one as null. The writer puts commas; it
// does not check that keys and values alternate.
//
// Concurrency: one thread per writer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rmm::api {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  // A member's key; the next value written is its value.
  void key(std::string_view name);

  void string(std::string_view s);
  void number(double v);
  void number(std::int64_t v);
  void null();
  // A value that is already JSON text (from boost::json::serialize, say).
  void raw(std::string_view json);

 private:
  void before_value();

  std::string& out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

// Appends `s` to `out` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view s);

}  // namespace rmm::api
