// Two-thread stress of SpscRing: a producer and a consumer with random batch sizes and random
// publish points move sequence-numbered 64-byte records; every record must arrive exactly once, in
// order and untorn. Runs under ThreadSanitizer in CI (label "concurrency").
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/runtime/backoff.h"
#include "pipeline/runtime/ring.h"

// Sanitizers slow every memory access 3-15x; the record counts shrink so the whole file stays
// within ~10 s under TSan on 2 cores. GCC spells the check __SANITIZE_*__, clang __has_feature.
#if defined(__SANITIZE_THREAD__)
#define RIVULET_RING_TEST_SLOWDOWN 10
#elif defined(__SANITIZE_ADDRESS__)
#define RIVULET_RING_TEST_SLOWDOWN 4
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RIVULET_RING_TEST_SLOWDOWN 10
#elif __has_feature(address_sanitizer)
#define RIVULET_RING_TEST_SLOWDOWN 4
#endif
#endif
#ifndef RIVULET_RING_TEST_SLOWDOWN
#define RIVULET_RING_TEST_SLOWDOWN 1
#endif

namespace rivulet::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

// A failing run must fail, not hang: every wait gives up at this deadline.
constexpr auto kDeadline = std::chrono::seconds(60);

// One cache line whose every word is derived from the sequence number, so a slot read while the
// producer is still writing it (a torn read), read twice, or read from the wrong place cannot pass.
struct Record {
  std::uint64_t words[8];
};
static_assert(sizeof(Record) == 64);

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t checksum(const Record& r) {
  std::uint64_t sum = 0;
  for (int i = 0; i < 7; ++i) sum = (sum ^ r.words[i]) * 0x100000001b3ULL;
  return sum;
}

Record makeRecord(std::uint64_t seq) {
  Record r;
  r.words[0] = seq;
  for (int i = 1; i < 7; ++i) r.words[i] = splitmix64(seq * 8 + static_cast<std::uint64_t>(i));
  r.words[7] = checksum(r);
  return r;
}

bool isRecord(const Record& r, std::uint64_t seq) {
  if (r.words[0] != seq || r.words[7] != checksum(r)) return false;
  for (int i = 1; i < 7; ++i) {
    if (r.words[i] != splitmix64(seq * 8 + static_cast<std::uint64_t>(i))) return false;
  }
  return true;
}

std::string describe(const Record& r, std::uint64_t expected) {
  std::ostringstream out;
  out << "expected record " << expected << ", got words";
  for (const std::uint64_t w : r.words) out << ' ' << std::hex << w;
  return out.str();
}

// The wait every ring user writes: back off until ready(), giving up once the other side has
// failed or the deadline has passed.
template <typename Ready>
bool waitFor(Ready ready, Clock::time_point deadline, const std::atomic<bool>& failed) {
  Backoff backoff;
  while (!ready()) {
    if (failed.load(std::memory_order_relaxed) || Clock::now() > deadline) return false;
    backoff.pause();
  }
  return true;
}

struct StressCase {
  const char* name;
  std::size_t capacity;
  std::size_t max_push;     // the producer pushes batches of 1..max_push records
  std::size_t max_consume;  // the consumer takes 1..max_consume of what it sees
  int publish_one_in;       // after a push, publish with probability 1/publish_one_in
  std::uint64_t records;    // without sanitizers
};

void PrintTo(const StressCase& c, std::ostream* os) { *os << c.name; }

struct Outcome {
  std::string producer_error;
  std::string consumer_error;
  std::uint64_t received = 0;
};

Outcome runStress(SpscRing<Record>& ring, const StressCase& c, std::uint64_t records) {
  Outcome out;
  std::atomic<bool> failed{false};
  const Clock::time_point deadline = Clock::now() + kDeadline;

  std::thread producer([&] {
    std::mt19937_64 rng(0xfeed + c.capacity);
    std::uniform_int_distribution<std::size_t> batch_size(1, c.max_push);
    std::uniform_int_distribution<int> publish_now(1, c.publish_one_in);
    std::vector<Record> batch(c.max_push);
    std::uint64_t next = 0;
    while (next < records) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(batch_size(rng), records - next));
      for (std::size_t i = 0; i < n; ++i) batch[i] = makeRecord(next + i);
      if (!ring.tryPush(batch.data(), n)) {
        // The consumer can only free room by reading what it can see.
        ring.publish();
        if (!waitFor([&] { return ring.tryPush(batch.data(), n); }, deadline, failed)) {
          out.producer_error = "gave up waiting for room to push record " + std::to_string(next);
          failed.store(true, std::memory_order_relaxed);
          return;
        }
      }
      next += n;
      if (publish_now(rng) == 1) ring.publish();
    }
    ring.publish();
  });

  std::thread consumer([&] {
    std::mt19937_64 rng(0xbeef + c.capacity);
    std::uniform_int_distribution<std::size_t> take_at_most(1, c.max_consume);
    std::uint64_t expected = 0;
    while (expected < records) {
      std::size_t available = 0;
      if (!waitFor([&] { return (available = ring.available()) != 0; }, deadline, failed)) {
        out.consumer_error = "gave up waiting for record " + std::to_string(expected);
        failed.store(true, std::memory_order_relaxed);
        return;
      }
      const std::size_t n = std::min(available, take_at_most(rng));
      for (std::size_t i = 0; i < n; ++i) {
        if (!isRecord(ring.at(i), expected + i)) {
          out.consumer_error = describe(ring.at(i), expected + i);
          failed.store(true, std::memory_order_relaxed);
          return;
        }
      }
      ring.consume(n);
      expected += n;
    }
    out.received = expected;
  });

  producer.join();
  consumer.join();
  return out;
}

class SpscRingStress : public ::testing::TestWithParam<StressCase> {};

TEST_P(SpscRingStress, EveryRecordArrivesOnceInOrderAndWhole) {
  const StressCase& c = GetParam();
  const std::uint64_t records = std::max<std::uint64_t>(c.records / RIVULET_RING_TEST_SLOWDOWN, 1);
  SpscRing<Record> ring(c.capacity);

  const Outcome out = runStress(ring, c, records);

  EXPECT_EQ(out.producer_error, "");
  EXPECT_EQ(out.consumer_error, "");
  EXPECT_EQ(out.received, records);
  // Both threads are joined, so this thread may now act as either side.
  EXPECT_EQ(ring.staged(), 0u);
  EXPECT_EQ(ring.available(), 0u);
  EXPECT_EQ(ring.sizeGuess(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, SpscRingStress,
    ::testing::Values(
        // The everyday shape: a mid-size ring, batches a fraction of it, publish every few pushes.
        StressCase{"Capacity1024", 1024, 64, 96, 4, 2'000'000},
        // Tiny rings: nearly every push finds the ring full and nearly every read finds it empty.
        // Fewer records: every one is a hand-off, and on a loaded machine the two threads can fall
        // into taking turns sleeping in Backoff (~50 us per record).
        StressCase{"Capacity4", 4, 4, 4, 2, 100'000},
        // The smallest ring allowed, publishing every record.
        StressCase{"Capacity2", 2, 2, 2, 1, 50'000},
        // Large batches and rare publishes: long stretches of staged-but-invisible slots.
        StressCase{"Capacity65536", 65536, 1024, 4096, 16, 2'000'000}),
    [](const ::testing::TestParamInfo<StressCase>& tested) { return tested.param.name; });

// sizeGuess() may be called from any thread (a metrics scrape) while both sides run.
TEST(SpscRingConcurrent, SizeGuessFromAThirdThreadStaysWithinCapacity) {
  const StressCase c{"observed", 64, 16, 16, 2, 500'000};
  const std::uint64_t records = c.records / RIVULET_RING_TEST_SLOWDOWN;
  SpscRing<Record> ring(c.capacity);
  std::atomic<bool> done{false};
  std::size_t largest = 0;
  std::uint64_t samples = 0;

  std::thread observer([&] {
    while (!done.load(std::memory_order_acquire)) {
      largest = std::max(largest, ring.sizeGuess());
      ++samples;
      // Paces the sampling so the observer does not starve the other two on a 2-core machine;
      // nothing waits on it.
      std::this_thread::yield();
    }
  });
  const Outcome out = runStress(ring, c, records);
  done.store(true, std::memory_order_release);
  observer.join();

  EXPECT_EQ(out.producer_error, "");
  EXPECT_EQ(out.consumer_error, "");
  EXPECT_EQ(out.received, records);
  EXPECT_GT(samples, 0u);
  // Holds when write_ is read before read_ and the cpu keeps that order, as x86 does; a weakly
  // ordered cpu needs the first load to be acquire.
  EXPECT_LE(largest, ring.capacity());
}

}  // namespace
}  // namespace rivulet::pipeline
