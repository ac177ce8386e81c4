#include "admin/command_consumer.h"

#include <fmt/format.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "admin/streams.h"
#include "common/event_codec.h"

namespace rmm::broker {

std::string agent_command_consumer(const AgentId& agent) {
  return agent.str();
}

Status ensure_agent_command_consumer(natsConnection* services, const AgentId& agent,
                                     std::chrono::milliseconds timeout) {
  const std::string name = agent_command_consumer(agent);
  const std::string filter = codec::agent_command_subject(agent);
  auto info = js_api_request(
      services, fmt::format("$JS.API.CONSUMER.INFO.{}.{}", kCommandsStream, name), "", timeout);
  if (info) {
    const auto* config = info->if_contains("config");
    const auto* current = config != nullptr && config->is_object()
                              ? config->as_object().if_contains("filter_subject")
                              : nullptr;
    if (current == nullptr || !current->is_string() || current->as_string() != filter) {
      return failf("consumer {} on {} exists with another filter subject", name, kCommandsStream);
    }
    return {};
  }
  if (info.error().code != Error::Code::kNotFound) {
    return std::unexpected(with_context(info.error(), "reading consumer " + name));
  }
  namespace json = boost::json;
  json::object config{
      {"durable_name", name},
      {"filter_subject", filter},
      {"deliver_policy", "all"},
      {"ack_policy", "explicit"},
      {"ack_wait", std::chrono::nanoseconds(kCommandAckWait).count()},
      {"max_deliver", -1},
      {"replay_policy", "instant"},
      {"max_ack_pending", 4 * kCommandMaxBatch},
      {"max_waiting", kCommandMaxWaiting},
      {"max_batch", kCommandMaxBatch},
  };
  json::object body{{"stream_name", kCommandsStream}, {"config", std::move(config)}};
  auto created = js_api_request(
      services, fmt::format("$JS.API.CONSUMER.DURABLE.CREATE.{}.{}", kCommandsStream, name),
      json::serialize(body), timeout);
  if (!created) return std::unexpected(with_context(created.error(), "creating consumer " + name));
  return {};
}

}  // namespace rmm::broker
