// docs/openapi.json describes exactly the routes rmm-api registers: a route missing from the
// document, or a documented operation that no route serves, fails this test.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <set>

#include "api/app.h"
#include "api/openapi/openapi_route.h"

using namespace rmm;

TEST_CASE("openapi: every registered route is documented, and every documented one exists") {
  api::ApiConfig c;
  c.listen_port = 0;
  c.pg_url = "postgresql://127.0.0.1:1/none";  // never reached: the pool connects lazily
  c.nats_url = "nats://127.0.0.1:1";           // connects in the background
  c.web_dir = RMM_SOURCE_DIR "/api/web/dist";
  auto app = api::App::create(c);
  REQUIRE_MESSAGE(app.has_value(), app.error().message);

  std::set<std::string> routed;
  for (const auto& [verb, path] : (*app)->router().routes()) {
    std::string method(api::http::to_string(verb));
    for (auto& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    routed.insert(method + " " + path);
  }
  REQUIRE(routed.size() > 30);

  auto doc = boost::json::parse(api::openapi_document()).as_object();
  CHECK(doc.at("openapi").as_string().starts_with("3."));
  std::set<std::string> documented;
  for (const auto& [path, ops] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : ops.as_object()) {
      documented.insert(std::string(method) + " " + std::string(path));
      CHECK_MESSAGE(op.as_object().contains("responses"), path);
    }
  }
  for (const auto& r : routed)
    CHECK_MESSAGE(documented.contains(r), "not in docs/openapi.json: " << r);
  for (const auto& d : documented) CHECK_MESSAGE(routed.contains(d), "no such route: " << d);
}
