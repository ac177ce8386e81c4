// common/platform/posix/capture_output: bounded in time and output, stderr kept only when asked,
// a clean environment, and errors that say what failed.
#include "common/platform/posix/capture_output.h"

#include <doctest/doctest.h>

namespace rmm::test {

using namespace std::chrono_literals;

TEST_CASE("capture_output: exit code, stdout, and stderr only when asked") {
  const std::vector<std::string> argv{"/bin/sh", "-c", "echo out; echo err >&2; exit 4"};
  auto both = posix::capture_output(argv, {.timeout = 10s, .with_stderr = true});
  REQUIRE(both);
  CHECK(both->exit_code == 4);
  CHECK(both->output == "out\nerr\n");
  CHECK(!both->truncated);
  auto out = posix::capture_output(argv, {.timeout = 10s});
  REQUIRE(out);
  CHECK(out->output == "out\n");
}

TEST_CASE("capture_output: the environment is the given one, and output is capped") {
  auto env = posix::capture_output({"/usr/bin/env"}, {.timeout = 10s});
  REQUIRE(env);
  CHECK(env->output.find("LC_ALL=C\n") != std::string::npos);
  CHECK(env->output.find("HOME=") == std::string::npos);
  auto big = posix::capture_output({"/bin/sh", "-c", "head -c 100000 /dev/zero"},
                                   {.timeout = 10s, .max_output = 1000});
  REQUIRE(big);
  CHECK(big->output.size() == 1000);
  CHECK(big->truncated);
  CHECK(big->exit_code == 0);
}

TEST_CASE("capture_output: refusals, a missing program and the deadline") {
  auto relative = posix::capture_output({"sh", "-c", "true"}, {.timeout = 1s});
  REQUIRE(!relative);
  CHECK(relative.error().code == Error::Code::kInvalidInput);
  auto missing = posix::capture_output({"/nonexistent/tool"}, {.timeout = 1s});
  REQUIRE(!missing);
  CHECK(missing.error().code == Error::Code::kNotFound);
  const auto start = std::chrono::steady_clock::now();
  // The grandchild keeps the pipe open: the whole process group must die at the deadline.
  auto slow = posix::capture_output({"/bin/sh", "-c", "sleep 30 & sleep 30"}, {.timeout = 300ms});
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  REQUIRE(!slow);
  CHECK(slow.error().code == Error::Code::kTimeout);
}

}  // namespace rmm::test
