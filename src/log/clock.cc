#include "log/clock.h"

#include <chrono>

namespace strom::log {

SystemClock* SystemClock::Default() {
  static SystemClock* clock = new SystemClock();
  return clock;
}

TimestampMs SystemClock::NowMs() const {
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return TimestampMs(std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
}

}  // namespace strom::log
