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

// Protocol (Dekker's): the consumer announces it is going to sleep, checks its rings once more,
// then sleeps unless the epoch moved; a producer publishes, then reads the announcement. A
// seq_cst fence on each side, between its store and its load, makes one of the two see the
// other's store, so a publish is never missed: either the consumer's last check finds the data,
// or the producer sees it sleeping and bumps the epoch, which makes its futex wait return at once.
//
// Thread contract: prepare(), sleep() and cancel() on the one consumer thread, in that order
// (prepare, its check of the rings, then sleep or cancel); ring() on any producer thread.
class Doorbell {
 public:
  // ---- consumer thread ----
  // Announces the sleep; returns the epoch to pass to sleep(). The caller checks its rings after
  // this and before sleep(); a ring with data means cancel().
  std::uint32_t prepare() noexcept {
    sleeping_.store(true, std::memory_order_relaxed);
    // The store above must be visible before the caller's re-check loads the rings' write
    // indices. Those are acquire loads, and a store may pass a later acquire load (AArch64's
    // RCpc loads do; x86 forgives it only because a seq_cst store is an xchg there): without this
    // fence both this re-check and ring()'s load of sleeping_ could read the old values, and the
    // consumer would sleep through a publish. Pairs with the fence in ring().
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // Acquire: an epoch bumped by ring() brings that producer's publish with it, so a consumer
    // that reads the new epoch here also finds the data in its re-check.
    return epoch_.load(std::memory_order_acquire);
  }
  // Sleeps until ring() or `timeout_ns` (a bound: stop requests and timers are checked by the
  // caller), unless the epoch has moved since prepare().
  void sleep(std::uint32_t epoch, std::int64_t timeout_ns) noexcept {
    const timespec timeout{static_cast<time_t>(timeout_ns / 1'000'000'000),
                           static_cast<long>(timeout_ns % 1'000'000'000)};
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAIT_PRIVATE, epoch,
            &timeout, nullptr, 0);
    // Relaxed: a producer that still sees true only makes one futex call too many.
    sleeping_.store(false, std::memory_order_relaxed);
  }
  // The re-check found data: no sleep after all.
  void cancel() noexcept { sleeping_.store(false, std::memory_order_relaxed); }

  // ---- producer threads, after publishing ----
  void ring() noexcept {
    // The publish (the ring's release store of its write index) must be visible before sleeping_
    // is read: pairs with the fence in prepare(), see there.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_relaxed)) {
      // Release: pairs with prepare()'s acquire load of the epoch.
      epoch_.fetch_add(1, std::memory_order_release);
      syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAKE_PRIVATE, 1, nullptr,
              nullptr, 0);
    }
  }

 private:
  // Written by producers (epoch_, only to wake) and the consumer (sleeping_, only to sleep), and
  // read by every producer at each publish: both on one line, which moves between cores only
  // when the consumer parks, and kept off everyone's other data by the alignment.
  alignas(kFalseSharingRange) std::atomic<std::uint32_t> epoch_{0};
  std::atomic<bool> sleeping_{false};

  // The futex is the epoch's 32-bit word itself.
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                std::atomic<std::uint32_t>::is_always_lock_free &&
                std::atomic<bool>::is_always_lock_free);
};

// A doorbell is exactly one false-sharing range, aligned to it: whatever it is a member of (a
// Stage, the Publisher) cannot put other data on its lines.
static_assert(alignof(Doorbell) == kFalseSharingRange && sizeof(Doorbell) == kFalseSharingRange);

}  // namespace rivulet::pipeline
