// The two clocks of rivulet: wall time for processing-time events and the future clamp, monotonic
// time for idleness, throttling and latency. Both read the vDSO, no syscall.
#pragma once

#include <time.h>

#include <cstdint>

namespace rivulet::pipeline {

inline std::int64_t readClock(clockid_t id) noexcept {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
inline std::int64_t wallNanos() noexcept { return readClock(CLOCK_REALTIME); }
inline std::int64_t steadyNanos() noexcept { return readClock(CLOCK_MONOTONIC); }

}  // namespace rivulet::pipeline
