#include "updater/agent_control.h"

namespace rmm::updater {
namespace {

// TODO(platform): stop and start the agent service through the service control manager.
class UnsupportedControl final : public AgentControl {
 public:
  Status acquire() override { return unsupported(); }
  Status stop(std::chrono::milliseconds) override { return unsupported(); }
  Status start() override { return unsupported(); }
  bool crash_looping() const override { return false; }
  void release() override {}

 private:
  static Status unsupported() {
    return fail(Error::Code::kNotSupported, "updating the agent is not supported on this platform");
  }
};

}  // namespace

std::unique_ptr<AgentControl> make_agent_control(const std::filesystem::path&) {
  return std::make_unique<UnsupportedControl>();
}

}  // namespace rmm::updater
