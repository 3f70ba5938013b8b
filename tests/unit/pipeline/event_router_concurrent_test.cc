// EventRouter back-pressure: a source thread routes into tiny rings that a slow stage thread
// drains. The source must wait, never drop: every record arrives once, in order per ring, and
// the waits are counted. Runs under ThreadSanitizer in CI (label "concurrency").
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/event_router.h"
#include "tests/support/plans.h"
#include "tests/support/printers.h"
#include "tests/support/rings.h"
#include "tests/support/slowdown.h"

namespace rivulet::pipeline {
namespace {

using testutil::kMs;
using testutil::Record;
using Clock = std::chrono::steady_clock;

config::Config oneSource() {
  config::Config config;
  config.sources.push_back(testutil::msSource("src", config::SourceKind::kFile));
  config.pipelines.push_back(testutil::pipelineConfig(
      "by_k", "src", {"k"}, {testutil::aggregate("s", config::AggregateKind::kSum, "seq")}));
  return config;
}

TEST(EventRouterConcurrent, FullRingsSlowTheSourceAndLoseNothing) {
  const int events = 20'000 / RIVULET_TEST_SLOWDOWN;
  const std::size_t stages = 2;
  const config::Config config = oneSource();
  SourceStats stats;
  std::vector<std::unique_ptr<Ring>> rings;
  std::vector<Ring*> ring_pointers;
  for (std::size_t i = 0; i < stages; ++i) {
    rings.push_back(std::make_unique<Ring>(8));  // room for 8 one-cell records
    ring_pointers.push_back(rings.back().get());
  }
  EventRouter router(testutil::planFor(config), ring_pointers, stats);

  std::atomic<bool> producer_done{false};
  std::thread producer([&] {
    const std::vector<std::string>& fields = router.plan().fields;
    std::vector<config::FieldValue> values(fields.size());
    std::string key;
    std::int64_t steady = 1'000'000'000;
    for (int i = 0; i < events; ++i) {
      key = "k" + std::to_string(i % 7);
      for (std::size_t f = 0; f < fields.size(); ++f) {
        config::FieldValue& v = values[f];
        v = config::FieldValue{};
        v.type = config::FieldType::kNumber;
        if (fields[f] == "ts") {
          v.is_integer = true;
          v.integer = i / 10;  // non-decreasing: no event may fall behind a watermark
          v.number = static_cast<double>(v.integer);
        } else if (fields[f] == "seq") {
          v.is_integer = true;
          v.integer = i;
          v.number = i;
        } else {
          v.type = config::FieldType::kString;
          v.text = key;
        }
      }
      EXPECT_EQ(router.route(values.data(), 0), ErrorReason::kNone);
      if (i % 50 == 49) router.flush(0, steady += 1'000'000);
    }
    router.flush(0, steady += 1'000'000);
    router.end(false);
    producer_done.store(true, std::memory_order_release);
  });

  // The stage side. It starts only once the source has found a ring full, so the wait is
  // certain, not a matter of scheduling; then it takes one record at a time and yields.
  const Clock::time_point deadline = Clock::now() + testutil::kDeadline;
  bool failed = false;
  Backoff backoff;
  while (stats.ring_full_waits.load(std::memory_order_relaxed) == 0) {
    if (Clock::now() > deadline) {
      ADD_FAILURE() << "the source never waited for room";
      failed = true;
      break;
    }
    backoff.pause();
  }
  std::vector<std::vector<Record>> received(stages);
  std::vector<bool> ended(stages, false);
  RecordReader reader;
  std::size_t open = stages;
  backoff.reset();
  while (open > 0) {
    bool progress = false;
    for (std::size_t s = 0; s < stages; ++s) {
      Ring& ring = *rings[s];
      const std::size_t available = ring.available();
      const RecordHeader* h = reader.peek(ring, 0, available);
      if (h == nullptr) continue;
      Record r;
      r.header = *h;
      r.payload.assign(reinterpret_cast<const char*>(payload(h)),
                       h->cells * sizeof(Cell) - sizeof(RecordHeader));
      ring.consume(h->cells);
      if (r.type() == RecordType::kEnd) {
        EXPECT_FALSE(ended[s]) << "second end on ring " << s;
        ended[s] = true;
        --open;
      }
      received[s].push_back(std::move(r));
      progress = true;
      std::this_thread::yield();  // a slow stage
    }
    if (progress) {
      backoff.reset();
      continue;
    }
    if (!failed && Clock::now() > deadline) {
      // Keep reading so that a stuck source can still finish and be joined.
      ADD_FAILURE() << "records missing at the deadline";
      failed = true;
    }
    if (failed && producer_done.load(std::memory_order_acquire) && open > 0) {
      if (ring_pointers[0]->available() == 0 && ring_pointers[1]->available() == 0) break;
    }
    backoff.pause();
  }
  producer.join();

  EXPECT_GT(stats.ring_full_waits.load(), 0u);
  EXPECT_EQ(stats.events.load(), static_cast<std::uint64_t>(events));
  EXPECT_EQ(testutil::totalErrors(stats), 0u);

  std::vector<int> seen(static_cast<std::size_t>(events), 0);
  std::map<std::string, std::size_t> ring_of_key;
  for (std::size_t s = 0; s < stages; ++s) {
    const std::vector<Record>& records = received[s];
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.back().type(), RecordType::kEnd) << "ring " << s;
    EXPECT_EQ(records.back().header.flags, 0u);
    std::int64_t last_seq = -1;
    std::int64_t watermark = kMinTime;
    for (const Record& r : records) {
      if (r.type() == RecordType::kWatermark) {
        EXPECT_GE(r.header.time, watermark);
        watermark = r.header.time;
        continue;
      }
      if (r.type() != RecordType::kEvent) continue;
      const auto seq = static_cast<std::int64_t>(r.value(0));
      ASSERT_GE(seq, 0);
      ASSERT_LT(seq, events);
      EXPECT_GT(seq, last_seq) << "ring " << s << " out of order";
      last_seq = seq;
      ++seen[static_cast<std::size_t>(seq)];
      EXPECT_EQ(r.header.time, seq / 10 * kMs);
      EXPECT_GE(r.header.time, watermark);
      const std::string key = testutil::keyParts(r.key(1)).at(0).second;
      EXPECT_EQ(key, "k" + std::to_string(seq % 7));
      EXPECT_EQ(stageOf(r.keyHash(1), stages), s);
      const auto [it, inserted] = ring_of_key.emplace(key, s);
      EXPECT_EQ(it->second, s) << key;
    }
    EXPECT_EQ(watermark, (events - 1) / 10 * kMs) << "ring " << s << ": last watermark";
  }
  int missing = 0;
  int duplicated = 0;
  for (int n : seen) {
    missing += n == 0;
    duplicated += n > 1;
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(duplicated, 0);
}

}  // namespace
}  // namespace rivulet::pipeline
