// rmm-api pieces that need no servers: settings, formatting, routing, problem details, and the
// static file guard against path traversal.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <pqxx/except>
#include <stdexcept>
#include <thread>

#include "api/problem.h"
#include "api/routes/agents.h"
#include "api/routes/json_writer.h"
#include "api/routes/static_files.h"
#include "api/server/api_server.h"
#include "api/server/query.h"
#include "api/server/router.h"
#include "api/settings.h"
#include "tests/fixtures/http_client.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using namespace rmm::api;
namespace fs = std::filesystem;

namespace {

Request get(std::string target, http::verb method = http::verb::get) {
  Request req{method, target, 11};
  return req;
}

boost::json::object json_body(const Response& res) {
  return boost::json::parse(res.body()).as_object();
}

void write_file(const fs::path& path, std::string_view text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("settings: defaults, listen parsing and bad values") {
  auto specs = settings();
  const char* argv[] = {"rmm-api"};
  auto values = config::Values::load(specs, 1, argv);
  REQUIRE(values.has_value());
  auto cfg = to_config(*values);
  REQUIRE(cfg.has_value());
  CHECK(cfg->listen_host == "127.0.0.1");
  CHECK(cfg->listen_port == 8080);
  CHECK(cfg->threads == 2);
  CHECK(cfg->max_body == 1024 * 1024);
  CHECK(cfg->offline_after == std::chrono::seconds(90));
  // The built dashboard only: never the sources or node_modules next to it.
  CHECK(fs::path(cfg->web_dir).filename() == "dist");

  CHECK(parse_listen("[::1]:0").value() == std::pair<std::string, std::uint16_t>{"::1", 0});
  CHECK_FALSE(parse_listen("localhost").has_value());
  CHECK_FALSE(parse_listen("127.0.0.1:70000").has_value());
  CHECK_FALSE(parse_listen("127.0.0.1:").has_value());

  const char* bad[] = {"rmm-api", "--listen", "nowhere"};
  auto bad_values = config::Values::load(specs, 3, bad);
  REQUIRE(bad_values.has_value());
  auto bad_cfg = to_config(*bad_values);
  REQUIRE_FALSE(bad_cfg.has_value());
  CHECK(bad_cfg.error().message.find("listen") != std::string::npos);

  const char* bad_level[] = {"rmm-api", "--log-level=loud"};
  auto level_values = config::Values::load(specs, 2, bad_level);
  REQUIRE(level_values.has_value());
  CHECK_FALSE(to_config(*level_values).has_value());

  // Roles that must sign in with TOTP: names, and an unknown one fails naming the setting.
  CHECK(cfg->totp_required.empty());
  const char* roles[] = {"rmm-api", "--totp-required-roles=owner, admin"};
  auto role_values = config::Values::load(specs, 2, roles);
  REQUIRE(role_values.has_value());
  auto role_cfg = to_config(*role_values);
  REQUIRE(role_cfg.has_value());
  CHECK(role_cfg->totp_required ==
        std::vector<schema::UserRole>{schema::UserRole::Owner, schema::UserRole::Admin});
  const char* bad_roles[] = {"rmm-api", "--totp-required-roles=owner,root"};
  auto bad_role_values = config::Values::load(specs, 2, bad_roles);
  REQUIRE(bad_role_values.has_value());
  auto bad_role_cfg = to_config(*bad_role_values);
  REQUIRE_FALSE(bad_role_cfg.has_value());
  CHECK(bad_role_cfg.error().message.find("totp-required-roles") != std::string::npos);
}

namespace {

// to_config of rmm-api with these flags.
Result<ApiConfig> config_of(std::vector<const char*> flags) {
  flags.insert(flags.begin(), "rmm-api");
  auto values = config::Values::load(settings(), static_cast<int>(flags.size()), flags.data());
  REQUIRE_MESSAGE(values.has_value(), values.error().message);
  return to_config(*values);
}

std::string error_of(std::vector<const char*> flags) {
  auto cfg = config_of(std::move(flags));
  REQUIRE_FALSE(cfg.has_value());
  return cfg.error().message;
}

}  // namespace

TEST_CASE("settings: HTTPS, plain HTTP only on loopback, public-url") {
  // Defaults: plain HTTP on loopback, public-url from listen.
  auto plain = config_of({});
  REQUIRE(plain.has_value());
  CHECK(plain->tls_cert.empty());
  CHECK(plain->public_url == "http://127.0.0.1:8080");
  CHECK(config_of({"--listen=[::1]:8443"})->public_url == "http://[::1]:8443");

  auto tls = config_of({"--listen=127.0.0.1:8443", "--tls-cert=/c.pem", "--tls-key=/k.pem"});
  REQUIRE(tls.has_value());
  CHECK(tls->tls_cert == "/c.pem");
  CHECK(tls->tls_key == "/k.pem");
  CHECK(tls->public_url == "https://127.0.0.1:8443");
  CHECK(error_of({"--tls-cert=/c.pem"}).find("'tls-key'") != std::string::npos);
  CHECK(error_of({"--tls-key=/k.pem"}).find("set both") != std::string::npos);

  // Plain HTTP on another address: refused, naming both ways out.
  const auto refused = error_of({"--listen=192.0.2.10:8080"});
  CHECK(refused.find("'listen'") != std::string::npos);
  CHECK(refused.find("tls-cert") != std::string::npos);
  CHECK(refused.find("allow-plain-http") != std::string::npos);
  CHECK(refused.find("reverse proxy") != std::string::npos);
  CHECK(error_of({"--listen=0.0.0.0:8080", "--public-url=https://rmm.example.com"})
            .find("allow-plain-http") != std::string::npos);
  auto proxied = config_of(
      {"--listen=192.0.2.10:8080", "--allow-plain-http", "--public-url=https://rmm.example.com/"});
  REQUIRE(proxied.has_value());
  CHECK(proxied->allow_plain_http);
  CHECK(proxied->public_url == "https://rmm.example.com");
  auto served = config_of({"--listen=0.0.0.0:443", "--tls-cert=/c.pem", "--tls-key=/k.pem",
                           "--public-url=https://rmm.example.com:443"});
  REQUIRE(served.has_value());
  CHECK(served->public_url == "https://rmm.example.com:443");

  // public-url: required behind a wildcard listen; https unless loopback; no path.
  CHECK(error_of({"--listen=0.0.0.0:443", "--tls-cert=/c.pem", "--tls-key=/k.pem"})
            .find("'public-url': required") != std::string::npos);
  CHECK(error_of({"--public-url=http://rmm.example.com"}).find("must be https") !=
        std::string::npos);
  CHECK(config_of({"--public-url=http://localhost:8080"}).has_value());
  CHECK(error_of({"--public-url=https://rmm.example.com/rmm"}).find("no path") !=
        std::string::npos);
  CHECK(error_of({"--public-url=rmm.example.com"}).find("'public-url'") != std::string::npos);
}

TEST_CASE("format_rfc3339_utc") {
  CHECK(format_rfc3339_utc(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339_utc(1'767'323'045'678'901) == "2026-01-02T03:04:05.678Z");
  CHECK(format_rfc3339_utc(-1'000) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("JsonWriter: what it writes parses back to what was written") {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("s");
  // Every byte below 0x20, quote, backslash, slash, DEL and UTF-8 of two to four bytes.
  std::string tricky;
  for (int c = 0; c < 0x20; ++c) tricky += static_cast<char>(c);
  tricky += "\"\\/\x7f \u00e9 \u20ac \U0001F600 end";
  w.string(tricky);
  w.key("k\"ey");
  w.begin_array();
  w.number(25.0);
  w.number(0.1);
  w.number(-1.5e300);
  w.number(std::numeric_limits<double>::quiet_NaN());
  w.number(std::int64_t{-9'007'199'254'740'993});
  w.null();
  w.begin_object();
  w.end_object();
  w.begin_array();
  w.end_array();
  w.raw(R"({"a":[1,2]})");
  w.end_array();
  w.key("empty");
  w.string("");
  w.end_object();

  boost::system::error_code ec;
  auto v = boost::json::parse(out, ec);
  REQUIRE_MESSAGE(!ec, out);
  const auto& o = v.as_object();
  CHECK(o.at("s").as_string() == tricky);
  const auto& a = o.at("k\"ey").as_array();
  REQUIRE(a.size() == 9);
  CHECK(a[0].is_double());  // "25.0": still a double for typed readers
  CHECK(a[0].as_double() == 25.0);
  CHECK(a[1].as_double() == 0.1);
  CHECK(a[2].as_double() == -1.5e300);
  CHECK(a[3].is_null());
  CHECK(a[4].as_int64() == -9'007'199'254'740'993);
  CHECK(a[5].is_null());
  CHECK(a[6].as_object().empty());
  CHECK(a[7].as_array().empty());
  CHECK(a[8].at("a").as_array().size() == 2);
  CHECK(o.at("empty").as_string().empty());
  // Escaped as boost::json escapes: the same text for the same string.
  CHECK(out.find(boost::json::serialize(boost::json::value(tricky))) != std::string::npos);
}

TEST_CASE("percent_decode and content types") {
  CHECK(percent_decode("/a%2e%2E/b").value() == "/a../b");
  CHECK(percent_decode("/%41").value() == "/A");
  CHECK_FALSE(percent_decode("/%4").has_value());
  CHECK_FALSE(percent_decode("/%zz").has_value());
  CHECK(content_type_for("index.HTML") == "text/html; charset=utf-8");
  CHECK(content_type_for("app.js") == "text/javascript; charset=utf-8");
  CHECK(content_type_for("style.css") == "text/css; charset=utf-8");
  CHECK(content_type_for("blob") == "application/octet-stream");
}

TEST_CASE("problem details carry every field and the correlation id") {
  RequestContext ctx{"abc-123"};
  auto res = make_problem(http::status::not_found, "no such thing", ctx);
  CHECK(res.result() == http::status::not_found);
  CHECK(res[http::field::content_type] == "application/problem+json");
  auto body = json_body(res);
  CHECK(body.at("type").as_string() == "urn:gururmm:problem:not-found");
  CHECK(body.at("title").as_string() == "Not Found");
  CHECK(body.at("status").as_int64() == 404);
  CHECK(body.at("detail").as_string() == "no such thing");
  CHECK(body.at("correlation_id").as_string() == "abc-123");
}

TEST_CASE("correlation ids: fresh UUIDs, or a safe client-supplied token") {
  auto req = get("/");
  auto a = correlation_id_for(req);
  auto b = correlation_id_for(req);
  CHECK(a.size() == 36);
  CHECK(a != b);
  req.set("X-Correlation-Id", "trace-42");
  CHECK(correlation_id_for(req) == "trace-42");
  req.set("X-Correlation-Id", "bad value\" with=quotes");
  CHECK(correlation_id_for(req).size() == 36);
}

TEST_CASE("router: 404, 405, static fallback, and exceptions become a generic 500") {
  Router router;
  router.add(http::verb::get, "/ok", [](const Request& req, const RequestContext&) {
    Response res{http::status::ok, req.version()};
    res.body() = "fine";
    return res;
  });
  router.add(http::verb::get, "/boom", [](const Request&, const RequestContext&) -> Response {
    throw pqxx::undefined_table("ERROR:  relation \"agents\" does not exist",
                                "SELECT secret_column FROM agents", "42P01");
  });
  router.set_static([](const Request& req, std::string_view path, const RequestContext&) {
    Response res{http::status::ok, req.version()};
    res.body() = "static:" + std::string(path);
    return res;
  });
  RequestContext ctx{"cid-1"};

  auto ok = router.handle(get("/ok?x=1"), ctx);
  CHECK(ok.result() == http::status::ok);
  CHECK(ok["X-Correlation-Id"] == "cid-1");

  auto missing = router.handle(get("/api/v1/nope"), ctx);
  CHECK(missing.result() == http::status::not_found);
  CHECK(json_body(missing).at("correlation_id").as_string() == "cid-1");
  CHECK(router.handle(get("/api"), ctx).result() == http::status::not_found);

  auto wrong = router.handle(get("/ok", http::verb::post), ctx);
  CHECK(wrong.result() == http::status::method_not_allowed);
  CHECK(wrong[http::field::allow] == "GET");
  CHECK(router.handle(get("/index.html", http::verb::delete_), ctx).result() ==
        http::status::method_not_allowed);

  CHECK(router.handle(get("/app.js?v=2"), ctx).body() == "static:/app.js");

  auto boom = router.handle(get("/boom"), ctx);
  CHECK(boom.result() == http::status::internal_server_error);
  CHECK(boom[http::field::content_type] == "application/problem+json");
  CHECK(boom.body().find("relation \"") == std::string::npos);
  CHECK(boom.body().find("does not exist") == std::string::npos);
  CHECK(boom.body().find("secret_column") == std::string::npos);
  CHECK(boom.body().find("42P01") == std::string::npos);
  CHECK(json_body(boom).at("correlation_id").as_string() == "cid-1");
}

TEST_CASE("static files: serves regular files inside web-dir only") {
  test::TempDir dir("api-static");
  write_file(dir / "web/index.html", "<p>home</p>");
  write_file(dir / "web/js/app.js", "let x = 1;");
  write_file(dir / "secret.txt", "top secret");
  fs::create_directories(dir / "web/empty");
  fs::create_symlink(dir / "secret.txt", dir / "web/leak.txt");
  StaticFiles files(dir / "web");
  RequestContext ctx{"cid"};
  auto fetch = [&](std::string path) { return files.get(get(path), path, ctx); };

  auto index = fetch("/");
  CHECK(index.result() == http::status::ok);
  CHECK(index.body() == "<p>home</p>");
  CHECK(index[http::field::content_type] == "text/html; charset=utf-8");
  CHECK(index["X-Content-Type-Options"] == "nosniff");
  CHECK_FALSE(index["Content-Security-Policy"].empty());
  CHECK(fetch("/js/app.js")[http::field::content_type] == "text/javascript; charset=utf-8");
  CHECK(fetch("/js/%61pp.js").body() == "let x = 1;");

  for (std::string bad : {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
                          "/js/../../secret.txt", "/..%2fsecret.txt", "/js/%2e%2e/index.html",
                          "/..\\secret.txt", "/index.html%00.js", "/%zz"}) {
    CAPTURE(bad);
    auto res = fetch(bad);
    CHECK(res.result() == http::status::bad_request);
    CHECK(res.body().find("top secret") == std::string::npos);
  }
  // Inside the tree by name, outside by real path, or not a regular file: not found.
  CHECK(fetch("/leak.txt").result() == http::status::not_found);
  CHECK(fetch("/empty").result() == http::status::not_found);
  CHECK(fetch("/missing.js").result() == http::status::not_found);
  CHECK(fetch("/js/").result() == http::status::not_found);
}

TEST_CASE("static files: a missing web-dir serves nothing") {
  StaticFiles files("/nonexistent/rmm-web");
  RequestContext ctx{"cid"};
  CHECK(files.get(get("/"), "/", ctx).result() == http::status::not_found);
}

TEST_CASE("server: stop() lets an in-flight request finish, then refuses connections") {
  std::promise<void> entered;
  Router router;
  router.add(http::verb::get, "/slow", [&](const Request& req, const RequestContext&) {
    entered.set_value();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    Response res{http::status::ok, req.version()};
    res.body() = "done";
    res.prepare_payload();
    return res;
  });
  ApiServer server(ServerOptions{.port = 0, .io_threads = 1, .worker_threads = 1}, router);
  REQUIRE(server.start().has_value());
  int port = server.port();
  auto response = std::async(std::launch::async, [&] { return test::http_get(port, "/slow"); });
  REQUIRE(entered.get_future().wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  server.stop();
  auto res = response.get();
  CHECK(res.status == 200);
  CHECK(res.body == "done");
  CHECK(res.headers.at("connection") == "close");
  CHECK_THROWS(test::http_get(port, "/slow"));
}

TEST_CASE("router: path parameters, literal segments first, per-route access") {
  Router router;
  auto echo = [](std::string tag) {
    return [tag](const Request& req, const RequestContext& ctx) {
      Response res{http::status::ok, req.version()};
      res.body() = tag + ":" + std::string(ctx.param("id")) + ":" +
                   (ctx.principal ? ctx.principal->username : std::string("-"));
      return res;
    };
  };
  router.add(http::verb::get, "/api/v1/agents/{id}", Access::signed_in(), echo("agent"));
  router.add(http::verb::get, "/api/v1/agents/summary", Access::open(), echo("summary"));
  router.add(http::verb::get, "/api/v1/agents/{id}/metrics", Access::signed_in(), echo("metrics"));
  router.add(http::verb::get, "/api/v1/users", Access::role(schema::UserRole::Admin),
             echo("users"));
  router.set_authenticator([](const Request& req) -> Result<Principal> {
    auto it = req.find(http::field::authorization);
    if (it == req.end()) return fail(Error::Code::kInvalidInput, "none");
    Principal p;
    p.username = std::string(it->value());
    p.role = p.username == "boss" ? schema::UserRole::Admin : schema::UserRole::ReadOnly;
    return p;
  });
  auto call = [&](std::string target, std::string who = "") {
    Request req{http::verb::get, target, 11};
    if (!who.empty()) req.set(http::field::authorization, who);
    return router.handle(req, RequestContext{"cid"});
  };
  CHECK(call("/api/v1/agents/abc?x=1", "tech").body() == "agent:abc:tech");
  CHECK(call("/api/v1/agents/summary").body() == "summary::-");
  CHECK(call("/api/v1/agents/abc/metrics", "tech").body() == "metrics:abc:tech");
  CHECK(call("/api/v1/agents/abc").result() == http::status::unauthorized);
  CHECK(call("/api/v1/agents/abc").at(http::field::www_authenticate) == "Bearer");
  CHECK(call("/api/v1/agents/").result() == http::status::not_found);
  CHECK(call("/api/v1/agents/a/b").result() == http::status::not_found);
  CHECK(call("/api/v1/users", "tech").result() == http::status::forbidden);
  CHECK(call("/api/v1/users", "boss").body() == "users::boss");
}

TEST_CASE("principal: actor, roles and scope SQL bind ids, never inline them") {
  Principal p;
  p.user = *UserId::parse("0190a5c2-0000-7000-8000-000000000001");
  p.role = schema::UserRole::Technician;
  p.scopes.push_back(
      {schema::PolicyScope::Client, *uuid_from_string("0190a5c2-0000-7000-8000-00000000000a")});
  CHECK(p.actor().actor == "user:0190a5c2-0000-7000-8000-000000000001");
  CHECK(p.actor().impersonator.empty());
  p.impersonator = *UserId::parse("0190a5c2-0000-7000-8000-000000000002");
  CHECK(p.actor().impersonator == "user:0190a5c2-0000-7000-8000-000000000002");
  CHECK(p.at_least(schema::UserRole::Technician));
  CHECK_FALSE(p.at_least(schema::UserRole::Admin));
  CHECK_FALSE(p.global());
  SqlParams q;
  std::string sql = p.visible_sql(q, "s.client_id", "a.site_id");
  CHECK(sql.find("0190a5c2") == std::string::npos);
  REQUIRE(q.values().size() == 2);
  CHECK(q.values()[0] == "{\"0190a5c2-0000-7000-8000-00000000000a\"}");
  CHECK(q.values()[1] == "{}");
  p.role = schema::UserRole::Owner;
  SqlParams all;
  CHECK(p.visible_sql(all, "c", "s") == "TRUE");
  CHECK(all.values().empty());
}

TEST_CASE("query parameters are percent-decoded") {
  CHECK(query_param("/x?a=1&q=h%C3%A9llo+w&b", "q") == "h\xC3\xA9llo w");
  CHECK(query_param("/x?a=1", "q") == std::nullopt);
  CHECK(query_param("/x?q=%zz", "q") == std::nullopt);
  CHECK(query_param("/x?q=%4", "q") == std::nullopt);
}
