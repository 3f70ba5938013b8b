// Helpers shared by the connector tests: a config with one source built in code, the router a
// source writes into, and a consumer that reads every record back out of the stage rings.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <ostream>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "config/config.h"
#include "pipeline/event_router.h"
#include "pipeline/model/hash.h"
#include "pipeline/model/key.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/record.h"
#include "pipeline/model/stats.h"
#include "pipeline/runtime/backoff.h"
#include "pipeline/runtime/ring.h"

// Sanitizers slow every memory access several times; loops shrink by this factor under them.
#if defined(__SANITIZE_THREAD__)
#define RIVULET_TEST_SLOWDOWN 10
#elif defined(__SANITIZE_ADDRESS__)
#define RIVULET_TEST_SLOWDOWN 4
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RIVULET_TEST_SLOWDOWN 10
#elif __has_feature(address_sanitizer)
#define RIVULET_TEST_SLOWDOWN 4
#endif
#endif
#ifndef RIVULET_TEST_SLOWDOWN
#define RIVULET_TEST_SLOWDOWN 1
#endif

// Readable gtest output for the enums the tests compare (found by ADL).
namespace rivulet::pipeline {
inline void PrintTo(ErrorReason reason, std::ostream* os) { *os << reasonName(reason); }
inline void PrintTo(RecordType type, std::ostream* os) {
  static constexpr const char* kNames[] = {"event", "watermark", "idle",
                                           "end",   "result",    "window_end"};
  const auto i = static_cast<std::size_t>(type);
  *os << (i < std::size(kNames) ? kNames[i] : "?");
}
inline void PrintTo(config::FieldType type, std::ostream* os) {
  static constexpr const char* kNames[] = {"missing", "null", "number", "string", "bool", "other"};
  const auto i = static_cast<std::size_t>(type);
  *os << (i < std::size(kNames) ? kNames[i] : "?");
}
inline void PrintTo(KeyPartType type, std::ostream* os) { *os << static_cast<char>(type); }
}  // namespace rivulet::pipeline

namespace rivulet::testutil {

using Clock = std::chrono::steady_clock;

// A failing run must fail, not hang: every wait gives up after this long.
inline constexpr auto kDeadline = std::chrono::seconds(30);

inline constexpr std::int64_t kMs = 1'000'000;  // ns per ms

inline config::AggregateSpec aggregate(std::string name, config::AggregateKind kind,
                                       std::string field = "") {
  return config::AggregateSpec{std::move(name), kind, std::move(field)};
}

inline config::PipelineConfig pipelineConfig(std::string name, std::string from,
                                             std::vector<std::string> group_by,
                                             std::vector<config::AggregateSpec> aggregates) {
  config::PipelineConfig p;
  p.name = std::move(name);
  p.from = {std::move(from)};
  for (std::string& field : group_by) p.group_by.push_back({std::move(field)});
  p.window = config::WindowSpec{config::WindowKind::kTumbling, 1'000'000'000, 1'000'000'000};
  p.aggregates = std::move(aggregates);
  return p;
}

// The plan of source `source` of `config`, with every pipeline compiled as the engine does.
inline pipeline::SourcePlan planFor(const config::Config& config, std::size_t source = 0) {
  std::vector<pipeline::PipelinePlan> plans;
  for (std::size_t i = 0; i < config.pipelines.size(); ++i)
    plans.push_back(pipeline::compilePipeline(config, i));
  return pipeline::planSource(config, source, plans);
}

// One record copied out of a ring.
struct Record {
  pipeline::RecordHeader header{};
  std::string payload;  // the bytes after the header (whole cells, so it may end in padding)

  pipeline::RecordType type() const { return header.type; }
  double value(std::size_t i) const {
    double v;
    std::memcpy(&v, payload.data() + i * sizeof(double), sizeof v);
    return v;
  }
  // The encoded key of an event record carrying `values` doubles.
  std::string_view key(std::size_t values) const {
    return std::string_view(payload).substr(values * sizeof(double), header.key_size);
  }
  // The hash a stage computes for the key (it picks the stage the record went to).
  std::uint64_t keyHash(std::size_t values) const { return pipeline::hashEncodedKey(key(values)); }
};

// The parts of an encoded key, e.g. {{kString, "AAPL"}, {kNumber, "3"}}.
inline std::vector<std::pair<pipeline::KeyPartType, std::string>> keyParts(
    std::string_view encoded) {
  std::vector<std::pair<pipeline::KeyPartType, std::string>> parts;
  pipeline::KeyParts it(encoded);
  pipeline::KeyPartType type;
  std::string_view bytes;
  while (it.next(type, bytes)) parts.emplace_back(type, std::string(bytes));
  return parts;
}

// The stage rings of one source, and the consumer side of all of them. Only one thread may
// drain (each ring is single-consumer).
class RingSet {
 public:
  RingSet(std::size_t stages, std::size_t capacity) : records_(stages) {
    for (std::size_t i = 0; i < stages; ++i)
      rings_.push_back(std::make_unique<pipeline::Ring>(capacity));
  }

  std::vector<pipeline::Ring*> pointers() const {
    std::vector<pipeline::Ring*> out;
    for (const auto& r : rings_) out.push_back(r.get());
    return out;
  }
  std::size_t size() const { return rings_.size(); }
  pipeline::Ring& ring(std::size_t i) { return *rings_[i]; }

  // Moves every published record of every ring into records(). Returns how many were read.
  std::size_t drain() {
    std::size_t read = 0;
    for (std::size_t i = 0; i < rings_.size(); ++i) {
      pipeline::Ring& ring = *rings_[i];
      const std::size_t available = ring.available();
      std::size_t offset = 0;
      while (const pipeline::RecordHeader* h = reader_.peek(ring, offset, available)) {
        Record r;
        r.header = *h;
        const std::size_t bytes =
            h->cells * sizeof(pipeline::Cell) - sizeof(pipeline::RecordHeader);
        r.payload.assign(reinterpret_cast<const char*>(pipeline::payload(h)), bytes);
        records_[i].push_back(std::move(r));
        offset += h->cells;
        ++read;
      }
      ring.consume(offset);
    }
    return read;
  }

  // Drains until `done()` holds; false if the deadline passed first.
  template <typename Done>
  bool drainUntil(Done done, std::chrono::nanoseconds timeout = kDeadline) {
    const Clock::time_point deadline = Clock::now() + timeout;
    pipeline::Backoff backoff;
    for (;;) {
      if (drain() > 0) backoff.reset();
      if (done()) return true;
      if (Clock::now() > deadline) return false;
      backoff.pause();
    }
  }

  const std::vector<Record>& records(std::size_t ring) const { return records_[ring]; }

  // Records of `type` over all rings (per ring in ring order).
  std::size_t count(pipeline::RecordType type) const {
    std::size_t n = 0;
    for (const auto& ring : records_)
      for (const Record& r : ring) n += r.type() == type;
    return n;
  }
  std::vector<Record> events(std::uint16_t pipeline) const {
    std::vector<Record> out;
    for (const auto& ring : records_)
      for (const Record& r : ring)
        if (r.type() == pipeline::RecordType::kEvent && r.header.pipeline == pipeline)
          out.push_back(r);
    return out;
  }
  // True once every ring has received its kEnd.
  bool ended() const {
    for (const auto& ring : records_) {
      bool end = false;
      for (const Record& r : ring) end = end || r.type() == pipeline::RecordType::kEnd;
      if (!end) return false;
    }
    return true;
  }

 private:
  std::vector<std::unique_ptr<pipeline::Ring>> rings_;
  std::vector<std::vector<Record>> records_;
  pipeline::RecordReader reader_;
};

// A source of type S built from config.sources[0], running on its own thread (from start()); the
// test thread is the consumer of its rings.
template <typename S>
class SourceThread {
 public:
  SourceThread(const config::Config& config, std::size_t stages, bool start = true,
               std::size_t ring_capacity = 1 << 14)
      : rings_(stages, ring_capacity),
        source_(make(config.sources[0],
                     pipeline::EventRouter(planFor(config), rings_.pointers(), stats_), stats_)) {
    if (start) this->start();
  }
  ~SourceThread() {
    if (thread_.joinable()) stop();
  }

  void start() {
    thread_ = std::jthread([this](std::stop_token stop) {
      source_.run(stop);
      done_.store(true, std::memory_order_release);
    });
  }
  // Stops the source and drains its rings to the end of its stream.
  void stop() {
    thread_.request_stop();
    EXPECT_TRUE(rings_.drainUntil([&] { return done_.load(std::memory_order_acquire); }));
    thread_.join();
    rings_.drain();
  }

  S& source() { return source_; }
  RingSet& rings() { return rings_; }
  const pipeline::SourceStats& stats() const { return stats_; }

 private:
  // With the stats too, for a source that counts some of them itself (tcp, udp).
  static S make(const config::SourceConfig& spec, pipeline::EventRouter router,
                pipeline::SourceStats& stats) {
    if constexpr (std::is_constructible_v<S, const config::SourceConfig&, pipeline::EventRouter,
                                          pipeline::SourceStats*>) {
      return S(spec, std::move(router), &stats);
    } else {
      return S(spec, std::move(router));
    }
  }

  pipeline::SourceStats stats_;
  RingSet rings_;
  S source_;
  std::atomic<bool> done_{false};
  std::jthread thread_;
};

inline std::uint64_t errors(const pipeline::SourceStats& stats, pipeline::ErrorReason reason) {
  return stats.errors[static_cast<std::size_t>(reason)].load(std::memory_order_relaxed);
}

inline std::uint64_t totalErrors(const pipeline::SourceStats& stats) {
  std::uint64_t n = 0;
  for (const auto& c : stats.errors) n += c.load(std::memory_order_relaxed);
  return n;
}

// Every ring: exactly one kEnd, as its last record, with `flags`.
inline void expectOneEndPerRing(const RingSet& rings, std::uint8_t flags) {
  for (std::size_t i = 0; i < rings.size(); ++i) {
    const std::vector<Record>& records = rings.records(i);
    std::size_t ends = 0;
    for (const Record& r : records) ends += r.type() == pipeline::RecordType::kEnd;
    EXPECT_EQ(ends, 1u) << "ring " << i;
    ASSERT_FALSE(records.empty()) << "ring " << i;
    EXPECT_EQ(records.back().type(), pipeline::RecordType::kEnd) << "ring " << i;
    EXPECT_EQ(records.back().header.flags, flags) << "ring " << i;
  }
}

// Every ring: watermarks never go back, and no event after a watermark is older than it (the
// watermark's promise, which holds for inputs in time order and delay 0, or for inputs whose
// disorder stays within the delay). Returns how many watermarks were seen in all.
inline std::size_t checkWatermarks(const RingSet& rings) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < rings.size(); ++i) {
    std::int64_t watermark = pipeline::kMinTime;
    for (const Record& r : rings.records(i)) {
      if (r.type() == pipeline::RecordType::kWatermark) {
        EXPECT_GE(r.header.time, watermark) << "ring " << i << ": watermark went back";
        watermark = r.header.time;
        ++seen;
      } else if (r.type() == pipeline::RecordType::kEvent) {
        EXPECT_GE(r.header.time, watermark) << "ring " << i << ": event behind the watermark";
      }
    }
  }
  return seen;
}

}  // namespace rivulet::testutil
