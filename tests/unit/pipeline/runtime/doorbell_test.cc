// Doorbell on one thread: ring() moves the epoch only for a consumer that announced its sleep, a
// sleep whose epoch moved returns at once, and a park nobody rings ends at its bound.
#include "pipeline/runtime/doorbell.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace rivulet::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kDeadline = std::chrono::seconds(30);
constexpr std::int64_t kHour = 3600LL * 1'000'000'000;

TEST(Doorbell, RingingNobodyAsleepCostsNoWakeUp) {
  Doorbell bell;
  const std::uint32_t epoch = bell.prepare();
  bell.cancel();  // the re-check found data: no sleep
  bell.ring();
  bell.ring();
  EXPECT_EQ(bell.prepare(), epoch) << "a wake-up for a consumer that was not going to sleep";
  bell.cancel();
}

TEST(Doorbell, RingBetweenPrepareAndSleepEndsTheSleepAtOnce) {
  Doorbell bell;
  const std::uint32_t epoch = bell.prepare();
  bell.ring();  // a publish after the consumer's re-check, before its sleep
  std::atomic<bool> woke{false};
  // Bounded by an hour, so only the moved epoch can end it before the deadline.
  std::thread consumer([&] {
    bell.sleep(epoch, kHour);
    woke.store(true, std::memory_order_release);
  });
  const Clock::time_point deadline = Clock::now() + kDeadline;
  while (!woke.load(std::memory_order_acquire) && Clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_TRUE(woke.load(std::memory_order_acquire)) << "slept through a ring before the sleep";
  while (!woke.load(std::memory_order_acquire)) bell.ring();  // so that the thread can be joined
  consumer.join();
  EXPECT_NE(bell.prepare(), epoch);
  bell.cancel();
}

TEST(Doorbell, ParkNobodyRingsEndsAtItsBound) {
  Doorbell bell;
  const std::uint32_t epoch = bell.prepare();
  bell.sleep(epoch, 1'000'000);  // 1 ms: returns by itself
  EXPECT_EQ(bell.prepare(), epoch);
  bell.cancel();
}

}  // namespace
}  // namespace rivulet::pipeline
