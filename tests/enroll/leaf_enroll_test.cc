// Enrollment through a site's leaf node (admin/leaf_config.h): the request crosses the leaf's
// link to the responder on the hub and the reply comes back; the new credential works at the
// leaf and its events reach the hub's RMM_EVENTS through the site's stream.
#include <doctest/doctest.h>

#include "tests/enroll/enroll_stack.h"
#include "tests/fixtures/leaf_node.h"
#include "tests/fixtures/stream_reader.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

TEST_CASE("an agent enrolls through its site's leaf node and reports through it") {
  EnrollStack stack({.leafnodes = true});
  LeafNodeFixture leaf(stack.nats(), "branch", stack.nats().leafnode_port());
  REQUIRE(leaf.wait_linked(20s));
  auto options = stack.options(stack.new_code(), stack.dir() / "agent-leaf");
  options.server = leaf.url();
  auto out = agent::enroll::enroll(options, machine(1));
  REQUIRE_MESSAGE(out.has_value(), error_of(out));
  CHECK(out->site_id == stack.site().str());

  auto published = publish_as_agent(leaf.url(), stack.dir() / "agent-leaf", out->agent);
  REQUIRE_MESSAGE(published.has_value(), (published ? "" : published.error().message));
  CHECK_FALSE(read_agent_events(stack.nats(), out->agent, 1, 20s).empty());
}
