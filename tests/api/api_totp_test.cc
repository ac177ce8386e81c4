// Two-factor sign-in end to end against a real PostgreSQL: enrolment in a session and at sign-in
// (a role that requires it), password -> pending token -> code -> session, the +-1 step window,
// replayed codes and recovery codes refused, the lock on wrong codes, removal and an owner's reset.
#include <doctest/doctest.h>

#include <chrono>
#include <set>

#include "api/auth/totp.h"
#include "tests/api/api_env.h"

using namespace rmm;
using namespace rmm::test;
namespace totp = rmm::api::totp;
using namespace std::chrono_literals;

namespace {

// 2026-01-02T03:05:00Z, 0 s into its 30 s step.
constexpr UnixNanos kStart = 1'767'323'100'000'000'000;
const std::string kPassword = "correct horse battery";

HttpResponse post(const ApiEnv& env, const std::string& path, const boost::json::object& body,
                  const std::string& token = "") {
  return env.send("POST", path, token, boost::json::serialize(body));
}

HttpResponse password_step(const ApiEnv& env, const std::string& user) {
  return post(env, "/api/v1/auth/login", {{"username", user}, {"password", kPassword}});
}

// The pending token of a password step that must ask for `factor`.
std::string pending(const ApiEnv& env, const std::string& user, const std::string& factor) {
  auto res = password_step(env, user);
  REQUIRE_MESSAGE(res.status == 200, res.body);
  auto o = parse_object(res.body);
  CHECK(o.at("second_factor").as_string() == factor);
  CHECK_FALSE(o.contains("token"));
  return std::string(o.at("pending_token").as_string());
}

HttpResponse second_step(const ApiEnv& env, const std::string& pending_token,
                         const std::string& field, const std::string& value) {
  return post(env, "/api/v1/auth/login/second-factor",
              {{"pending_token", pending_token}, {field, value}});
}

std::vector<std::uint8_t> secret_of(const boost::json::object& enrolment) {
  auto secret = totp::from_base32(std::string_view(enrolment.at("secret").as_string()));
  REQUIRE(secret.has_value());
  return *secret;
}

std::string code_at(const std::vector<std::uint8_t>& secret, UnixNanos t) {
  return totp::hotp(secret, static_cast<std::uint64_t>(totp::step_at(t)));
}

// A well-formed code that is none of the three the window accepts at `t`.
std::string wrong_code(const std::vector<std::uint8_t>& secret, UnixNanos t) {
  for (int n = 0;; ++n) {
    std::string c = fmt::format("{:06}", n);
    if (!totp::match(secret, c, t, -1)) return c;
  }
}

}  // namespace

TEST_CASE("totp: enrolled in a session; sign-in then takes a code once, or a recovery code once") {
  FakeClock clock(kStart);
  ApiEnv env("api_totp", clock);
  env.add_user("ann", "admin", {});
  const std::string session = env.login("ann");

  CHECK(parse_object(env.get("/api/v1/auth/totp", session).body).at("enabled") == false);
  auto started = post(env, "/api/v1/auth/totp", {}, session);
  REQUIRE_MESSAGE(started.status == 200, started.body);
  auto enrolment = parse_object(started.body);
  const auto secret = secret_of(enrolment);
  CHECK(secret.size() == 20);
  CHECK(std::string(enrolment.at("otpauth_uri").as_string()) ==
        fmt::format("otpauth://totp/GuruRMM:ann?secret={}&issuer=GuruRMM&algorithm=SHA1&digits=6"
                    "&period=30",
                    totp::base32(secret)));
  // Until confirmed, sign-in is unchanged.
  CHECK(parse_object(password_step(env, "ann").body).contains("token"));

  check_problem(
      post(env, "/api/v1/auth/totp/confirm", {{"code", wrong_code(secret, clock.now())}}, session),
      400);
  const std::string first = code_at(secret, clock.now());
  auto confirmed = post(env, "/api/v1/auth/totp/confirm", {{"code", first}}, session);
  REQUIRE_MESSAGE(confirmed.status == 200, confirmed.body);
  std::set<std::string> recovery;
  const auto confirmed_body = parse_object(confirmed.body);
  for (const auto& c : confirmed_body.at("recovery_codes").as_array()) {
    recovery.insert(std::string(c.as_string()));
  }
  CHECK(recovery.size() == 10);
  check_problem(post(env, "/api/v1/auth/totp", {}, session), 409);  // already enabled

  // Password -> pending token -> code -> session. The code used to confirm is not good again.
  std::string p = pending(env, "ann", "totp");
  check_problem(second_step(env, p, "code", first), 401);
  check_problem(env.get("/api/v1/auth/me", p), 401);  // a pending token is no session
  clock.advance(30s);
  const std::string next = code_at(secret, clock.now());
  auto signed_in = second_step(env, p, "code", next);
  REQUIRE_MESSAGE(signed_in.status == 200, signed_in.body);
  const std::string token(parse_object(signed_in.body).at("token").as_string());
  CHECK(env.get("/api/v1/auth/me", token).status == 200);
  // The pending token is spent; and the same code on a new one is a replay.
  check_problem(second_step(env, p, "code", next), 401);
  p = pending(env, "ann", "totp");
  check_problem(second_step(env, p, "code", next), 401);
  // One step of drift either way is accepted (the previous step's code, 10 s into the next).
  clock.advance(70s);  // 10 s into the third step after `next`'s
  CHECK(second_step(env, p, "code", code_at(secret, clock.now() - 30'000'000'000)).status == 200);

  // A recovery code works once, typed loosely.
  const std::string rc = *recovery.begin();
  std::string shouted;
  for (char c : rc) shouted += c == '-' ? ' ' : static_cast<char>(std::toupper(c));
  CHECK(second_step(env, pending(env, "ann", "totp"), "recovery_code", shouted).status == 200);
  check_problem(second_step(env, pending(env, "ann", "totp"), "recovery_code", rc), 401);
  CHECK(parse_object(env.get("/api/v1/auth/totp", token).body).at("recovery_codes_left") == 9);

  // A pending sign-in lasts 5 minutes.
  p = pending(env, "ann", "totp");
  clock.advance(6min);
  check_problem(second_step(env, p, "code", code_at(secret, clock.now())), 401);

  // Removing it takes a code; then sign-in is one step again.
  check_problem(env.send("DELETE", "/api/v1/auth/totp", token, "{}"), 400);
  CHECK(
      env.send("DELETE", "/api/v1/auth/totp", token,
               boost::json::serialize(boost::json::object{{"code", code_at(secret, clock.now())}}))
          .status == 204);
  CHECK(parse_object(password_step(env, "ann").body).contains("token"));
}

TEST_CASE("totp: wrong codes lock the second factor; the password alone never signs in") {
  FakeClock clock(kStart);
  ApiEnv env("api_totp_lock", clock);
  env.add_user("bob", "technician", {});
  const std::string session = env.login("bob");
  const auto secret = secret_of(parse_object(post(env, "/api/v1/auth/totp", {}, session).body));
  REQUIRE(post(env, "/api/v1/auth/totp/confirm", {{"code", code_at(secret, clock.now())}}, session)
              .status == 200);
  clock.advance(30s);
  const std::string bad = wrong_code(secret, clock.now());
  std::string p = pending(env, "bob", "totp");
  for (int i = 0; i < 4; ++i) check_problem(second_step(env, p, "code", bad), 401);
  check_problem(second_step(env, p, "code", bad), 401);
  // Five wrong codes: locked for 15 minutes, from every address, even with the right code.
  p = pending(env, "bob", "totp");
  auto locked = second_step(env, p, "code", code_at(secret, clock.now()));
  check_problem(locked, 429);
  CHECK(std::stoi(locked.headers.at("retry-after")) > 800);
  clock.advance(16min);
  CHECK(
      second_step(env, pending(env, "bob", "totp"), "code", code_at(secret, clock.now())).status ==
      200);
  // Malformed second steps.
  check_problem(post(env, "/api/v1/auth/login/second-factor", {{"pending_token", "x"}}), 400);
  check_problem(second_step(env, "no-such-token", "code", "123456"), 401);
}

TEST_CASE("totp: a role that requires it enrols at sign-in; an owner resets a lost one") {
  FakeClock clock(kStart);
  ApiEnv env("api_totp_required", clock, [](api::ApiConfig& c) {
    c.totp_required = {schema::UserRole::Owner, schema::UserRole::Admin};
  });
  env.add_user("olga", "owner", {});
  const std::string ann = env.add_user("ann", "admin", {});
  env.add_user("tom", "technician", {});

  // Not required for technicians: one step.
  CHECK(parse_object(password_step(env, "tom").body).contains("token"));

  // The owner has none yet: the pending token enrols it, and its first code opens the session.
  std::string p = pending(env, "olga", "totp_enroll");
  check_problem(second_step(env, p, "code", "123456"), 409);
  auto enrolment = post(env, "/api/v1/auth/login/enroll-totp", {{"pending_token", p}});
  REQUIRE_MESSAGE(enrolment.status == 200, enrolment.body);
  const auto secret = secret_of(parse_object(enrolment.body));
  auto done = second_step(env, p, "code", code_at(secret, clock.now()));
  REQUIRE_MESSAGE(done.status == 200, done.body);
  auto answer = parse_object(done.body);
  CHECK(answer.at("recovery_codes").as_array().size() == 10);
  const std::string owner(answer.at("token").as_string());
  CHECK(parse_object(env.get("/api/v1/auth/totp", owner).body).at("required") == true);
  // From now on the owner signs in with a code; enrol-at-sign-in is over.
  p = pending(env, "olga", "totp");
  check_problem(post(env, "/api/v1/auth/login/enroll-totp", {{"pending_token", p}}), 409);

  // Ann enrols at sign-in too, then loses her phone: an owner resets it, she enrols again.
  std::string pa = pending(env, "ann", "totp_enroll");
  const auto ann_secret = secret_of(
      parse_object(post(env, "/api/v1/auth/login/enroll-totp", {{"pending_token", pa}}).body));
  auto ann_in = second_step(env, pa, "code", code_at(ann_secret, clock.now()));
  REQUIRE(ann_in.status == 200);
  const std::string ann_token(parse_object(ann_in.body).at("token").as_string());
  check_problem(env.send("DELETE", "/api/v1/users/" + ann + "/totp", ann_token), 403);
  CHECK(env.send("DELETE", "/api/v1/users/" + ann + "/totp", owner).status == 204);
  pending(env, "ann", "totp_enroll");
  // An impersonating owner cannot touch the user's second factor.
  auto imp = post(env, "/api/v1/auth/impersonate", {{"user_id", ann}}, owner);
  REQUIRE(imp.status == 200);
  const std::string as_ann(parse_object(imp.body).at("token").as_string());
  check_problem(env.get("/api/v1/auth/totp", as_ann), 403);
  check_problem(post(env, "/api/v1/auth/totp", {}, as_ann), 403);
}
