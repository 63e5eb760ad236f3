#pragma once

#include "common/ids.h"

namespace strom::log {

/// Wall-clock time in milliseconds since the Unix epoch, injected so tests can move time
/// (segment roll by age, retention by TTL, writer expiration, commit timestamps).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimestampMs NowMs() const = 0;
};

/// The system clock. Stateless; Default() is shared by every tablet.
class SystemClock final : public Clock {
 public:
  static SystemClock* Default();
  TimestampMs NowMs() const override;
};

/// A clock that only moves when told to. Not thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimestampMs start) : now_(start) {}
  TimestampMs NowMs() const override { return now_; }
  void Set(TimestampMs now) { now_ = now; }
  void AdvanceMs(int64_t ms) { now_ += ms; }

 private:
  TimestampMs now_;
};

}  // namespace strom::log
