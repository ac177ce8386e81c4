// The agent's msg ids: stable per event (re-sends dedupe), distinct per agent, key, lane and
// position, and read back only when this agent's key made them.
#include "common/msg_ids.h"

#include <doctest/doctest.h>

#include <cctype>

#include "common/event_codec.h"

using namespace rmm;

namespace {

MsgIdKey counting_key() {
  MsgIdKey k;
  for (std::size_t i = 0; i < k.bytes.size(); ++i) k.bytes[i] = static_cast<std::uint8_t>(i);
  return k;
}

const AgentId kAgent = *AgentId::parse("0190a5c2-1234-7000-8000-00000000abcd");

}  // namespace

TEST_CASE("msg ids are SipHash-128 tags over agent, lane and position") {
  // Expected values from a Python SipHash-2-4-128 written from the paper (and checked against
  // its 64-bit test vector) over agent bytes + lane byte + 8-byte big-endian position, key
  // bytes(range(16)): an implementation independent of libsodium.
  const AgentMsgIds ids(kAgent, counting_key());
  CHECK(ids.ordered(AgentSeq{42}) == kAgent.str() + ":42:db16e006617d69db7fb92860aead8245");
  CHECK(ids.presence(7) == kAgent.str() + ":hb:7:0dd55794351d0d4bbeade231d22029a1");
}

TEST_CASE("msg ids of the two lanes parse back, and nothing else does") {
  const auto key = MsgIdKey::generate();
  const AgentMsgIds ids(kAgent, key);
  CHECK(ids.parse(ids.ordered(AgentSeq{42})) == LaneSeq{schema::Lane::Ordered, 42});
  CHECK(ids.parse(ids.presence(7)) == LaneSeq{schema::Lane::Presence, 7});
  // The same event always gets the same id, so the stream's dedupe window absorbs a re-send.
  CHECK(ids.ordered(AgentSeq{42}) == AgentMsgIds(kAgent, key).ordered(AgentSeq{42}));

  // What another agent can make without the key: the unkeyed form, its own key's ids for this
  // agent, a fresh key's, an all-zero key's, a tag copied from another position or lane.
  CHECK_FALSE(ids.parse(codec::agent_msg_id(kAgent, AgentSeq{42})));
  CHECK_FALSE(ids.parse(kAgent.str() + ":hb:7"));
  CHECK_FALSE(ids.parse(AgentMsgIds(kAgent, MsgIdKey::generate()).ordered(AgentSeq{42})));
  CHECK_FALSE(ids.parse(AgentMsgIds(kAgent, MsgIdKey{}).presence(7)));
  const auto tag_of_43 = ids.ordered(AgentSeq{43}).substr(kAgent.str().size() + 4);
  CHECK_FALSE(ids.parse(kAgent.str() + ":42:" + tag_of_43));
  const auto tag_of_hb42 = ids.presence(42).substr(kAgent.str().size() + 7);
  CHECK_FALSE(ids.parse(kAgent.str() + ":42:" + tag_of_hb42));
  // Another agent's id, even under the same key.
  const auto other = *AgentId::parse("0190a5c2-1234-7000-8000-00000000abce");
  CHECK_FALSE(ids.parse(AgentMsgIds(other, key).ordered(AgentSeq{42})));

  // Malformed: no tag, zero, a leading zero, trailing bytes, upper-case hex.
  const auto good = ids.ordered(AgentSeq{42});
  const auto tag = good.substr(good.rfind(':') + 1);
  CHECK(tag.size() == 32);
  CHECK_FALSE(ids.parse(kAgent.str() + ":hb:"));
  CHECK_FALSE(ids.parse(kAgent.str() + ":0:" + ids.ordered(AgentSeq{0}).substr(good.rfind(':'))));
  CHECK_FALSE(ids.parse(kAgent.str() + ":042:" + tag));
  CHECK_FALSE(ids.parse(good + "0"));
  CHECK_FALSE(ids.parse(good.substr(0, good.size() - 1)));
  std::string upper = tag;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  REQUIRE(upper != tag);
  CHECK_FALSE(ids.parse(kAgent.str() + ":42:" + upper));
}

TEST_CASE("generated keys differ") {
  CHECK(MsgIdKey::generate().bytes != MsgIdKey::generate().bytes);
  CHECK(MsgIdKey::generate().bytes != MsgIdKey{}.bytes);
}
