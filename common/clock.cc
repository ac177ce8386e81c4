#include "common/clock.h"

namespace rmm {

const Clock& real_clock() {
  static const RealClock clock;
  return clock;
}

}  // namespace rmm
