// A blocking source stopped while one of its stages does not consume: the source thread, waiting
// for room on that stage's ring, must leave. The event it was pushing is dropped whole and
// counted; the end of its stream reaches every ring, so that the stuck stage, once it consumes
// again, finishes. Runs under ThreadSanitizer in CI (label "concurrency").
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/event_router.h"
#include "tests/support/field_values.h"
#include "tests/support/plans.h"
#include "tests/support/printers.h"
#include "tests/support/rings.h"
#include "tests/support/wait.h"

namespace rivulet::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
using testutil::Record;

// The consumer side of one ring: every record read from it, copied out.
class RingReader {
 public:
  explicit RingReader(Ring& ring) : ring_(ring) {}

  // Reads what is published; true if there was anything.
  bool read() {
    const std::size_t available = ring_.available();
    std::size_t offset = 0;
    while (const RecordHeader* h = reader_.peek(ring_, offset, available)) {
      Record r;
      r.header = *h;
      r.payload.assign(reinterpret_cast<const char*>(payload(h)),
                       h->cells * sizeof(Cell) - sizeof(RecordHeader));
      records_.push_back(std::move(r));
      offset += h->cells;
    }
    ring_.consume(offset);
    return offset > 0;
  }
  const std::vector<Record>& records() const { return records_; }

 private:
  Ring& ring_;
  RecordReader reader_;
  std::vector<Record> records_;
};

// Reads `live` until `done()` holds or the deadline passes; false then.
template <typename Done>
bool readUntil(RingReader& live, Done done, Clock::time_point deadline) {
  Backoff backoff;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    if (live.read()) {
      backoff.reset();
    } else {
      backoff.pause();
    }
  }
  return true;
}

TEST(EventRouterStopConcurrent, SourceLeavesAStuckStageWithItsEventCountedAndItsEndSent) {
  config::Config config;
  config.sources.push_back(testutil::msSource("src", config::SourceKind::kFile));
  // Two pipelines keyed by different fields: an event has a record in each, on one stage or on
  // both, so that an event sent in part would show.
  for (const char* field : {"a", "b"}) {
    config.pipelines.push_back(
        testutil::pipelineConfig(std::string("by_") + field, "src", {field},
                                 {testutil::aggregate("s", config::AggregateKind::kSum, "seq")}));
  }
  SourceStats stats;
  // Ring 1 is too large to fill before ring 0 does: the first wait is for ring 0, and it lasts.
  Ring ring0(256);
  Ring ring1(1 << 16);
  std::stop_source stop;
  EventRouter router(testutil::planFor(config), {&ring0, &ring1}, stats, {}, stop.get_token());
  ASSERT_EQ(router.plan().overflow, config::Overflow::kBlock);

  // The source thread, as a source's run() goes: route, flush now and then, end once stopped.
  std::atomic<std::uint64_t> read{0};
  std::atomic<bool> done{false};
  std::thread producer([&] {
    const std::vector<std::string>& fields = router.plan().fields;
    std::vector<config::FieldValue> values(fields.size());
    std::string a, b;
    std::int64_t i = 0;
    for (; !stop.stop_requested(); ++i) {
      a = "a" + std::to_string(i % 5);
      b = "b" + std::to_string(i % 7);
      for (std::size_t f = 0; f < fields.size(); ++f) {
        if (fields[f] == "a" || fields[f] == "b") {
          values[f] = testutil::str(fields[f] == "a" ? a : b);
        } else {
          values[f] = testutil::integer(fields[f] == "ts" ? i / 10 : i);
        }
      }
      EXPECT_EQ(router.route(values.data(), 0), ErrorReason::kNone);
      read.store(static_cast<std::uint64_t>(i + 1), std::memory_order_relaxed);
      if (i % 50 == 49) router.flush(0, i);
    }
    router.flush(0, i);
    router.end(true);
    done.store(true, std::memory_order_release);
  });

  // Stage 1 consumes; stage 0 is stuck. The source soon waits for room on ring 0.
  RingReader stuck(ring0);
  RingReader live(ring1);
  const Clock::time_point deadline = Clock::now() + testutil::kDeadline;
  EXPECT_TRUE(readUntil(
      live, [&] { return stats.ring_full_waits.load(std::memory_order_relaxed) > 0; }, deadline))
      << "the source never waited for room";

  stop.request_stop();
  const bool left = readUntil(
      live, [&] { return done.load(std::memory_order_acquire); }, deadline);
  EXPECT_TRUE(left) << "the stopped source stayed stuck behind stage 0";
  // Stage 0 consumes again; had the source not left, this lets it finish, to be joined.
  if (!left)
    readUntil(
        stuck, [&] { return done.load(std::memory_order_acquire); }, deadline);
  producer.join();
  live.read();
  stuck.read();

  // Every event read is counted: taken, or dropped (the one being pushed when the stop came).
  EXPECT_EQ(stats.events.load() + stats.dropped.load(), read.load());
  EXPECT_GE(stats.dropped.load(), 1u);
  EXPECT_EQ(testutil::totalErrors(stats), 0u);
  // Each ring ends with the stream's end, marked stopped: the stuck stage will finish too.
  std::set<double> delivered[2];  // per pipeline: the seq of each event it got
  for (const RingReader* ring : {&stuck, &live}) {
    const std::vector<Record>& records = ring->records();
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.back().type(), RecordType::kEnd);
    EXPECT_EQ(records.back().header.flags, kEndStopped);
    std::size_t ends = 0;
    for (const Record& r : records) {
      ends += r.type() == RecordType::kEnd;
      if (r.type() == RecordType::kEvent) {
        EXPECT_TRUE(delivered[r.header.pipeline].insert(r.value(0)).second) << "twice";
      }
    }
    EXPECT_EQ(ends, 1u);
  }
  // Whole events only: each pipeline got the same events, as many as the source counted.
  EXPECT_EQ(delivered[0], delivered[1]);
  EXPECT_EQ(delivered[0].size(), stats.events.load());
}

}  // namespace
}  // namespace rivulet::pipeline
