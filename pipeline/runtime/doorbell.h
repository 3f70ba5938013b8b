// Doorbell: lets an idle consumer thread (a stage, the publisher) sleep in the kernel until a
// producer publishes, instead of waking up on a timer to look. Producers pay one fence and one
// load per publish; the system call happens only when the consumer is actually asleep.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "pipeline/runtime/cache_line.h"

namespace rivulet::pipeline {

// Protocol (Dekker's): the consumer announces it is going to sleep (seq_cst store), checks its
// rings once more, then sleeps unless the epoch moved; a producer publishes (release store), then
// after a seq_cst fence reads the announcement. One of the two sees the other's store, so a
// publish is never missed: either the consumer's last check finds the data, or the producer sees
// it sleeping and bumps the epoch, which makes its futex wait return at once.
class Doorbell {
 public:
  // ---- consumer thread ----
  std::uint32_t prepare() noexcept {
    sleeping_.store(true, std::memory_order_seq_cst);
    return epoch_.load(std::memory_order_seq_cst);
  }
  // Sleeps until ring() or `timeout_ns` (a bound: stop requests and timers are checked by the
  // caller), unless the epoch has moved since prepare().
  void sleep(std::uint32_t epoch, std::int64_t timeout_ns) noexcept {
    const timespec timeout{static_cast<time_t>(timeout_ns / 1'000'000'000),
                           static_cast<long>(timeout_ns % 1'000'000'000)};
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAIT_PRIVATE, epoch,
            &timeout, nullptr, 0);
    sleeping_.store(false, std::memory_order_relaxed);
  }
  void cancel() noexcept { sleeping_.store(false, std::memory_order_relaxed); }

  // ---- producer threads, after publishing ----
  void ring() noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_relaxed)) {
      epoch_.fetch_add(1, std::memory_order_seq_cst);
      syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAKE_PRIVATE, 1, nullptr,
              nullptr, 0);
    }
  }

 private:
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  // Written by producers and the consumer alike: kept off everyone's other data.
  alignas(kFalseSharingRange) std::atomic<std::uint32_t> epoch_{0};
  std::atomic<bool> sleeping_{false};
};

}  // namespace rivulet::pipeline
