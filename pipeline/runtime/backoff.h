// Backoff: how a thread waits for a ring — spin, then yield, then sleep in growing steps.
#pragma once

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstdint>

#include "pipeline/runtime/clock.h"

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
//
// A spin budget (`spin_ns`, daemon.idle_spin) makes the thread spin on for that long after its
// last progress before it yields or parks: a producer's next hand-off then finds it awake instead
// of paying a futex wake-up (tens of microseconds, milliseconds on a busy VM), at the price of a
// core while the input trickles.
class Backoff {
 public:
  static constexpr int kSpins = 256;
  static constexpr int kYields = 64;
  static constexpr std::int64_t kMaxSleepNs = 200'000;

  explicit Backoff(std::int64_t spin_ns = 0) noexcept : spin_ns_(spin_ns) {}

  void pause() noexcept {
    if (step_ < kSpins) {
      for (int i = 0; i < 8; ++i) cpuRelax();
    } else if (spin_ns_ > 0 && budgetLeft()) {
      for (int i = 0; i < 8; ++i) cpuRelax();
      return;  // the steps after spinning wait until the budget is spent
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
    spin_from_ = 0;
  }

  // True once the wait has gone past spinning: worth counting as a "ring full" wait.
  bool parked() const noexcept { return step_ >= kSpins; }
  // True once spinning and yielding are both spent: a thread with a Doorbell sleeps on it now.
  bool exhausted() const noexcept { return step_ >= kSpins + kYields; }

 private:
  // The clock is read every 64 pauses (a vDSO call beside ~500 cycles of pauses).
  bool budgetLeft() noexcept {
    if (spin_from_ == 0) {
      spin_from_ = steadyNanos();
      budget_checks_ = 0;
      return true;
    }
    if ((++budget_checks_ & 63) != 0) return true;
    return steadyNanos() - spin_from_ < spin_ns_;
  }

  int step_ = 0;
  std::int64_t sleep_ns_ = 0;
  std::int64_t spin_ns_;
  std::int64_t spin_from_ = 0;  // when the budget's spinning began; 0: not yet
  std::uint32_t budget_checks_ = 0;
};

}  // namespace rivulet::pipeline
