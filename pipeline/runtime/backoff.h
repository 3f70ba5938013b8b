// Backoff: how a thread waits for a ring — spin, then yield, then sleep in growing steps.
#pragma once

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstdint>

namespace rivulet::pipeline {

inline void cpuRelax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// One instance per wait. The caller loops `while (!ready()) { if (stop) break; backoff.pause(); }`
// and calls reset() after progress. Spinning first keeps the hand-off latency of a busy pipeline
// in the sub-microsecond range; yielding lets a co-scheduled thread run on a shared core (the
// 2-core default puts sources and the publisher on one); sleeping bounds the CPU an idle daemon
// burns. The sleep cap bounds how late a parked thread notices new work or a stop request.
class Backoff {
 public:
  static constexpr int kSpins = 256;
  static constexpr int kYields = 64;
  static constexpr std::int64_t kMaxSleepNs = 200'000;

  void pause() noexcept {
    if (step_ < kSpins) {
      for (int i = 0; i < 8; ++i) cpuRelax();
    } else if (step_ < kSpins + kYields) {
      sched_yield();
    } else {
      sleep_ns_ = std::min(std::max<std::int64_t>(sleep_ns_ * 2, 1'000), kMaxSleepNs);
      const timespec ts{0, static_cast<long>(sleep_ns_)};
      nanosleep(&ts, nullptr);
    }
    ++step_;
  }

  void reset() noexcept {
    step_ = 0;
    sleep_ns_ = 0;
  }

  // True once the wait has gone past spinning: worth counting as a "ring full" wait.
  bool parked() const noexcept { return step_ >= kSpins; }
  // True once spinning and yielding are both spent: a thread with a Doorbell sleeps on it now.
  bool exhausted() const noexcept { return step_ >= kSpins + kYields; }

 private:
  int step_ = 0;
  std::int64_t sleep_ns_ = 0;
};

}  // namespace rivulet::pipeline
