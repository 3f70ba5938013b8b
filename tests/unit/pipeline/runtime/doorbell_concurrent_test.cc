// Doorbell against real producers: two producer threads each hand one item at a time through its
// own SpscRing to one consumer and wait for it to be taken, so that the consumer runs dry and
// parks between almost every pair of items, racing its announcement and re-check against their
// publishes. It parks without a useful bound (an hour): a lost wake-up leaves an item untaken and
// fails at the deadline instead of being covered by the timeout. (A doorbell that bumps no epoch
// loses about one wake-up in 10,000 items here.) Runs under ThreadSanitizer in CI (label
// "concurrency").
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "pipeline/runtime/backoff.h"
#include "pipeline/runtime/doorbell.h"
#include "pipeline/runtime/ring.h"

namespace rivulet::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kDeadline = std::chrono::seconds(30);
constexpr std::int64_t kHour = 3600LL * 1'000'000'000;
constexpr std::size_t kProducers = 2;
// Per producer; sanitizers slow every step several times.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr std::uint64_t kItems = 5'000;
#else
constexpr std::uint64_t kItems = 50'000;
#endif

TEST(DoorbellConcurrent, NoWakeUpIsLostBetweenTheConsumersCheckAndItsSleep) {
  Doorbell bell;
  std::array<SpscRing<std::uint64_t>, kProducers> rings{SpscRing<std::uint64_t>(8),
                                                        SpscRing<std::uint64_t>(8)};
  std::array<std::atomic<std::uint64_t>, kProducers> taken{};  // items the consumer has taken
  std::atomic<bool> producers_done{false};
  std::atomic<bool> consumer_done{false};
  std::uint64_t parks = 0;
  bool in_order = true;

  std::thread consumer([&] {
    std::array<std::uint64_t, kProducers> next{};  // the item expected from each producer
    for (;;) {
      bool found = false;
      for (std::size_t p = 0; p < kProducers; ++p) {
        const std::size_t n = rings[p].available();
        if (n == 0) continue;
        for (std::size_t i = 0; i < n; ++i) in_order &= rings[p].at(i) == next[p]++;
        rings[p].consume(n);
        taken[p].fetch_add(n, std::memory_order_release);
        found = true;
      }
      if (found) continue;
      if (producers_done.load(std::memory_order_acquire)) break;
      // Dry: straight to the doorbell, as a stage does once its back-off is spent.
      const std::uint32_t epoch = bell.prepare();
      bool ready = false;
      for (auto& ring : rings) ready |= ring.available() > 0;
      if (ready) {
        bell.cancel();
        continue;
      }
      bell.sleep(epoch, kHour);
      ++parks;
    }
    consumer_done.store(true, std::memory_order_release);
  });

  std::atomic<std::uint64_t> lost{0};
  std::vector<std::thread> producers;
  for (std::size_t p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      // After a lost wake-up the test has failed: stop soon rather than wait out more deadlines.
      for (std::uint64_t item = 0; item < kItems && lost.load() == 0; ++item) {
        EXPECT_TRUE(rings[p].tryPush(item));  // the last one was taken: there is room
        rings[p].publish();
        bell.ring();
        const Clock::time_point deadline = Clock::now() + kDeadline;
        Backoff backoff;
        while (taken[p].load(std::memory_order_acquire) <= item) {
          if (Clock::now() > deadline) {
            // Lost: the consumer sleeps with the item in its ring. Wake it, to go on and end.
            lost.fetch_add(1);
            while (taken[p].load(std::memory_order_acquire) <= item) bell.ring();
            break;
          }
          backoff.pause();
        }
      }
    });
  }
  for (std::thread& t : producers) t.join();
  // The consumer may be parked (for an hour): ring until it has seen that nothing more comes.
  producers_done.store(true, std::memory_order_release);
  while (!consumer_done.load(std::memory_order_acquire)) bell.ring();
  consumer.join();

  EXPECT_EQ(lost.load(), 0u) << "wake-ups lost";
  EXPECT_TRUE(in_order);
  for (std::size_t p = 0; p < kProducers; ++p) EXPECT_EQ(taken[p].load(), kItems);
  // The race was run: the consumer did park between items (almost every time, in practice).
  EXPECT_GT(parks, kItems / 10);
}

}  // namespace
}  // namespace rivulet::pipeline
