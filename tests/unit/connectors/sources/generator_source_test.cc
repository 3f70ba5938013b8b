// GeneratorSource: generateEvent is a pure, well-spread function of (seed, i), nexmarkEvent has
// NEXMark's proportions and hot spots, and a real source run into real rings delivers exactly its
// events, keyed, watermarked and ended.
#include "connectors/sources/generator_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/support/plans.h"
#include "tests/support/printers.h"
#include "tests/support/rings.h"
#include "tests/support/slowdown.h"

namespace rivulet::connectors {
namespace {

using pipeline::RecordType;
using testutil::kMs;
using testutil::Record;
using testutil::RingSet;

config::GeneratorSpec spec(std::int64_t keys, std::int64_t eps, std::uint64_t seed) {
  config::GeneratorSpec s;
  s.keys = keys;
  s.events_per_second = eps;
  s.seed = seed;
  return s;
}

// ---- generateEvent ----

TEST(GenerateEvent, SameSeedSameEvents) {
  const config::GeneratorSpec a = spec(1000, 5000, 7);
  const config::GeneratorSpec b = spec(1000, 5000, 7);
  for (std::uint64_t i = 0; i < 10'000; ++i) {
    const GeneratedEvent x = generateEvent(a, 1'000, i);
    const GeneratedEvent y = generateEvent(b, 1'000, i);
    ASSERT_EQ(x.ts_ms, y.ts_ms) << i;
    ASSERT_EQ(x.key, y.key) << i;
    ASSERT_EQ(x.value, y.value) << i;
  }
}

TEST(GenerateEvent, EventIsAFunctionOfItsIndexAlone) {
  const config::GeneratorSpec s = spec(1000, 5000, 3);
  std::vector<GeneratedEvent> forward;
  for (std::uint64_t i = 0; i < 1000; ++i) forward.push_back(generateEvent(s, 0, i));
  for (std::uint64_t i = 1000; i-- > 0;) {
    const GeneratedEvent e = generateEvent(s, 0, i);
    ASSERT_EQ(e.key, forward[i].key) << i;
    ASSERT_EQ(e.value, forward[i].value) << i;
  }
}

TEST(GenerateEvent, DifferentSeedDifferentEvents) {
  const config::GeneratorSpec a = spec(1000, 5000, 1);
  const config::GeneratorSpec b = spec(1000, 5000, 2);
  int same_key = 0;
  int same_value = 0;
  const int n = 10'000;
  for (int i = 0; i < n; ++i) {
    const GeneratedEvent x = generateEvent(a, 0, static_cast<std::uint64_t>(i));
    const GeneratedEvent y = generateEvent(b, 0, static_cast<std::uint64_t>(i));
    EXPECT_EQ(x.ts_ms, y.ts_ms);  // time depends on the index only
    same_key += x.key == y.key;
    same_value += x.value == y.value;
  }
  // Independent keys collide with probability 1/1000: ~10 of 10,000.
  EXPECT_LT(same_key, 50);
  EXPECT_EQ(same_value, 0);
}

TEST(GenerateEvent, TimeIsStartPlusFloorOfIndexTimes1000OverRate) {
  struct Case {
    std::int64_t eps;
    std::uint64_t i;
    std::int64_t ts;  // with start 1000
  };
  const Case cases[] = {
      {3, 0, 1000},           {3, 1, 1333},
      {3, 2, 1666},           {3, 3, 2000},
      {3, 4, 2333},           {1000, 0, 1000},
      {1000, 1, 1001},        {1000, 123'456, 124'456},
      {1'000'000, 999, 1000}, {1'000'000, 1000, 1001},
      {1, 5, 6000},           {7, 1'000'000'000'000ULL, 1000 + 142'857'142'857'142},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(generateEvent(spec(10, c.eps, 1), 1000, c.i).ts_ms, c.ts)
        << "eps " << c.eps << " i " << c.i;
  }
  // And against the formula in 128-bit arithmetic, with a start in real epoch milliseconds.
  const std::int64_t start = 1'700'000'000'000;
  for (std::int64_t eps : {1, 3, 7, 999, 1000, 1001, 100'000, 3'000'000}) {
    std::int64_t previous = start;
    for (std::uint64_t i = 0; i < 20'000; ++i) {
      __extension__ using I128 = __int128;
      const auto expected =
          static_cast<std::int64_t>(start + static_cast<I128>(i) * 1000 / static_cast<I128>(eps));
      const std::int64_t ts = generateEvent(spec(10, eps, 9), start, i).ts_ms;
      ASSERT_EQ(ts, expected) << "eps " << eps << " i " << i;
      ASSERT_GE(ts, previous);
      previous = ts;
    }
  }
}

// Chi-square statistic of `n` keys drawn from [0, keys), failing on a key out of range.
double chiSquare(const config::GeneratorSpec& s, std::uint64_t n) {
  std::vector<std::uint64_t> counts(static_cast<std::size_t>(s.keys), 0);
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t key = generateEvent(s, 0, i).key;
    EXPECT_LT(key, static_cast<std::uint64_t>(s.keys)) << i;
    if (key >= counts.size()) return 1e300;
    ++counts[key];
  }
  const double expected = static_cast<double>(n) / static_cast<double>(s.keys);
  double chi = 0;
  for (std::uint64_t c : counts)
    chi += (static_cast<double>(c) - expected) * (static_cast<double>(c) - expected) / expected;
  return chi;
}

TEST(GenerateEvent, KeysAreInRangeAndRoughlyUniform) {
  // Degrees of freedom = keys - 1; a fair draw stays below ~dof + 5*sqrt(2*dof) essentially
  // always, and the seeds are fixed, so these bounds do not flake.
  EXPECT_LT(chiSquare(spec(16, 1000, 1), 160'000), 15 + 5 * std::sqrt(30.0));
  EXPECT_LT(chiSquare(spec(3, 1000, 2), 30'000), 2 + 5 * std::sqrt(4.0));
  EXPECT_LT(chiSquare(spec(1000, 1000, 3), 200'000), 999 + 5 * std::sqrt(1998.0));
  EXPECT_EQ(chiSquare(spec(1, 1000, 4), 1000), 0.0);  // one key: always k0

  // Far more keys than draws: still in range, and not clumped in a corner of the range.
  const config::GeneratorSpec wide = spec(std::int64_t{1} << 62, 1000, 5);
  std::uint64_t upper_half = 0;
  for (std::uint64_t i = 0; i < 10'000; ++i) {
    const std::uint64_t key = generateEvent(wide, 0, i).key;
    ASSERT_LT(key, std::uint64_t{1} << 62);
    upper_half += key >= (std::uint64_t{1} << 61);
  }
  EXPECT_NEAR(static_cast<double>(upper_half), 5000.0, 300.0);
}

TEST(GenerateEvent, ValuesAreInUnitIntervalAndSpread) {
  const config::GeneratorSpec s = spec(10, 1000, 11);
  const int n = 100'000;
  double sum = 0;
  double low = 1;
  double high = 0;
  int below_quarter = 0;
  for (int i = 0; i < n; ++i) {
    const double v = generateEvent(s, 0, static_cast<std::uint64_t>(i)).value;
    ASSERT_GE(v, 0.0) << i;
    ASSERT_LT(v, 1.0) << i;
    sum += v;
    low = std::min(low, v);
    high = std::max(high, v);
    below_quarter += v < 0.25;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.01);
  EXPECT_NEAR(static_cast<double>(below_quarter) / n, 0.25, 0.01);
  EXPECT_LT(low, 0.001);
  EXPECT_GT(high, 0.999);
}

// ---- nexmarkEvent ----

TEST(NexmarkEvent, ProportionsHotSpotsAndPrices) {
  const config::GeneratorSpec s = spec(1, 1000, 3);
  constexpr std::uint64_t kEvents = 500'000;
  std::size_t types[3] = {0, 0, 0};
  std::size_t hot_auction = 0, hot_bidder = 0, cheap = 0;
  std::int64_t low = INT64_MAX, high = 0;
  for (std::uint64_t i = 0; i < kEvents; ++i) {
    const NexmarkEvent e = nexmarkEvent(s, 0, i);
    ASSERT_EQ(e, nexmarkEvent(s, 0, i)) << "not a function of (seed, i)";
    ++types[e.type];
    // 1 person, then 3 auctions, then 46 bids in every 50 events.
    const std::uint64_t offset = i % 50;
    ASSERT_EQ(e.type, offset < 1   ? NexmarkEvent::kPerson
                      : offset < 4 ? NexmarkEvent::kAuction
                                   : NexmarkEvent::kBid);
    EXPECT_EQ(e.ts_ms, static_cast<std::int64_t>(i));
    if (e.type != NexmarkEvent::kBid) continue;
    const auto last_auction = static_cast<std::int64_t>(i / 50 * 3 + 2);
    const auto last_person = static_cast<std::int64_t>(i / 50);
    ASSERT_GE(e.auction, 1000 + std::max<std::int64_t>(last_auction - 100, 0));
    ASSERT_LE(e.auction, 1000 + last_auction + 10);
    ASSERT_GE(e.bidder, 1000 + std::max<std::int64_t>(last_person - 999, 0));
    ASSERT_LE(e.bidder, 1000 + last_person + 10);
    hot_auction += e.auction == 1000 + last_auction / 100 * 100;
    hot_bidder += e.bidder == 1000 + last_person / 100 * 100 + 1;
    low = std::min(low, e.price);
    high = std::max(high, e.price);
    cheap += e.price < 100'000;  // 10^(6u) * 100 < 10^5 for u < 1/2
  }
  EXPECT_EQ(types[0], kEvents / 50);
  EXPECT_EQ(types[1], 3 * kEvents / 50);
  EXPECT_EQ(types[2], 46 * kEvents / 50);
  const double bids = static_cast<double>(types[2]);
  // The hot share, plus the cold draws that land on the hot id by chance (about 1/110 and 1/1010).
  EXPECT_NEAR(hot_auction / bids, 0.5 + 0.5 / 110, 0.01);
  EXPECT_NEAR(hot_bidder / bids, 0.75 + 0.25 / 1010, 0.01);
  EXPECT_NEAR(cheap / bids, 0.5, 0.01);
  EXPECT_GE(low, 100);
  EXPECT_LT(low, 110);
  EXPECT_LE(high, 100'000'000);
  EXPECT_GT(high, 99'000'000);
}

TEST(NexmarkEvent, SeedsGiveDifferentBids) {
  std::size_t bids = 0, same = 0;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    const NexmarkEvent a = nexmarkEvent(spec(1, 1000, 1), 0, i);
    if (a.type != NexmarkEvent::kBid) continue;
    ++bids;
    same += a.price == nexmarkEvent(spec(1, 1000, 2), 0, i).price;
  }
  EXPECT_EQ(bids, 920u);
  EXPECT_LT(same, 10u);
}

// ---- a real GeneratorSource into rings ----

constexpr std::int64_t kStartMs = 1'700'000'000'000;
constexpr std::int64_t kDelay = 2 * kMs;

config::Config generatorConfig(std::int64_t count, std::int64_t throttle = 0) {
  config::Config config;
  config::SourceConfig source;
  source.name = "gen";
  source.kind = config::SourceKind::kGenerator;
  source.time = config::TimeSpec{"ts", config::TimeUnit::kMillis};
  source.watermark.delay = kDelay;
  source.generator.keys = 50;
  source.generator.events_per_second = 1000;
  source.generator.start_ms = kStartMs;
  source.generator.throttle = throttle;
  source.generator.count = count;
  source.generator.seed = 7;
  config.sources.push_back(source);
  // Two pipelines on the same key: one carries the value, one only counts.
  config.pipelines.push_back(
      testutil::pipelineConfig("avg_by_key", "gen", {"key"},
                               {testutil::aggregate("avg", config::AggregateKind::kAvg, "value")}));
  config.pipelines.push_back(testutil::pipelineConfig(
      "count_by_key", "gen", {"key"}, {testutil::aggregate("n", config::AggregateKind::kCount)}));
  return config;
}

// Runs `source` on its own thread while this thread drains `rings`, until every ring has its
// kEnd, or `stop_when()` holds (then a stop is requested) and the source has ended.
template <typename StopWhen>
void runAndDrain(Source& source, RingSet& rings, StopWhen stop_when) {
  std::atomic<bool> done{false};
  std::jthread thread([&](std::stop_token stop) {
    source.run(stop);
    done.store(true, std::memory_order_release);
  });
  const bool stopped_or_ended = rings.drainUntil([&] { return rings.ended() || stop_when(); });
  EXPECT_TRUE(stopped_or_ended) << "no end of stream before the deadline";
  thread.request_stop();
  // A source stuck on a full ring needs a consumer to finish: keep draining until it returns.
  EXPECT_TRUE(rings.drainUntil([&] { return done.load(std::memory_order_acquire); }));
  thread.join();
  rings.drain();
}

TEST(GeneratorSource, BoundedRunDeliversExactlyItsEvents) {
  const std::int64_t n = 20'000 / RIVULET_TEST_SLOWDOWN;
  const config::Config config = generatorConfig(n);
  pipeline::SourceStats stats;
  RingSet rings(3, 1 << 12);
  GeneratorSource source(config.sources[0].generator,
                         pipeline::EventRouter(testutil::planFor(config), rings.pointers(), stats));
  EXPECT_TRUE(source.bounded());

  runAndDrain(source, rings, [] { return false; });

  // The events, as (time, key, value) for the first pipeline and (time, key) for the second.
  using WithValue = std::tuple<std::int64_t, std::string, double>;
  using WithoutValue = std::tuple<std::int64_t, std::string>;
  std::vector<WithValue> expected_avg;
  std::vector<WithoutValue> expected_count;
  for (std::int64_t i = 0; i < n; ++i) {
    const GeneratedEvent e =
        generateEvent(config.sources[0].generator, kStartMs, static_cast<std::uint64_t>(i));
    const std::string key = "k" + std::to_string(e.key);
    expected_avg.emplace_back(e.ts_ms * kMs, key, e.value);
    expected_count.emplace_back(e.ts_ms * kMs, key);
  }

  std::vector<WithValue> got_avg;
  std::vector<WithoutValue> got_count;
  std::map<std::string, std::size_t> ring_of_key;
  for (std::size_t ring = 0; ring < rings.size(); ++ring) {
    for (const Record& r : rings.records(ring)) {
      if (r.type() != RecordType::kEvent) continue;
      const std::size_t values = r.header.pipeline == 0 ? 1 : 0;
      const auto parts = testutil::keyParts(r.key(values));
      ASSERT_EQ(parts.size(), 1u);
      ASSERT_EQ(parts[0].first, pipeline::KeyPartType::kString);
      const std::string& key = parts[0].second;
      ASSERT_GE(key.size(), 2u);
      ASSERT_EQ(key[0], 'k');
      ASSERT_LT(std::stoll(key.substr(1)), 50) << key;
      EXPECT_EQ(r.header.cells, (16 + values * 8 + 3 + key.size() + 7) / 8);
      // Routed by its hash, and a key has one home whichever pipeline it belongs to.
      EXPECT_EQ(pipeline::stageOf(r.keyHash(values), 3), ring);
      const auto [it, inserted] = ring_of_key.emplace(key, ring);
      EXPECT_EQ(it->second, ring) << key;
      if (r.header.pipeline == 0) {
        got_avg.emplace_back(r.header.time, key, r.value(0));
      } else {
        ASSERT_EQ(r.header.pipeline, 1u);
        got_count.emplace_back(r.header.time, key);
      }
    }
  }
  ASSERT_EQ(got_avg.size(), static_cast<std::size_t>(n));
  ASSERT_EQ(got_count.size(), static_cast<std::size_t>(n));
  std::sort(expected_avg.begin(), expected_avg.end());
  std::sort(got_avg.begin(), got_avg.end());
  std::sort(expected_count.begin(), expected_count.end());
  std::sort(got_count.begin(), got_count.end());
  EXPECT_TRUE(got_avg == expected_avg);
  EXPECT_TRUE(got_count == expected_count);
  EXPECT_EQ(ring_of_key.size(), 50u);  // 20,000 draws hit every one of 50 keys

  // Watermarks: every ring gets them (also rings few keys go to), they never go back, no event
  // after one is older, and each is the latest event time so far minus the delay.
  EXPECT_GT(testutil::checkWatermarks(rings), 0u);
  const std::int64_t last_time =
      generateEvent(config.sources[0].generator, kStartMs, static_cast<std::uint64_t>(n - 1))
          .ts_ms *
      kMs;
  for (std::size_t ring = 0; ring < rings.size(); ++ring) {
    std::int64_t latest_watermark = pipeline::kMinTime;
    for (const Record& r : rings.records(ring)) {
      if (r.type() != RecordType::kWatermark) continue;
      EXPECT_EQ((r.header.time + kDelay - kStartMs * kMs) % kMs, 0) << "not an event time - delay";
      EXPECT_LE(r.header.time, last_time - kDelay);
      latest_watermark = r.header.time;
    }
    EXPECT_EQ(latest_watermark, last_time - kDelay) << "ring " << ring;
  }

  testutil::expectOneEndPerRing(rings, 0);
  for (std::size_t ring = 0; ring < rings.size(); ++ring) {
    EXPECT_EQ(rings.records(ring).back().header.time, last_time);
  }
  EXPECT_EQ(stats.events.load(), static_cast<std::uint64_t>(n));
  EXPECT_EQ(testutil::totalErrors(stats), 0u);
}

// The nexmark profile through a real router: a pipeline of bids by auction gets exactly the bids,
// with their price.
TEST(GeneratorSource, NexmarkProfileDeliversItsBids) {
  const std::int64_t n = 10'000 / RIVULET_TEST_SLOWDOWN;
  config::Config config;
  config::SourceConfig source;
  source.name = "nexmark";
  source.kind = config::SourceKind::kGenerator;
  source.time = config::TimeSpec{"dateTime", config::TimeUnit::kMillis};
  source.generator.profile = config::GeneratorProfile::kNexmark;
  source.generator.events_per_second = 1000;
  source.generator.start_ms = kStartMs;
  source.generator.count = n;
  config.sources.push_back(source);
  config::PipelineConfig bids =
      testutil::pipelineConfig("bids", "nexmark", {"auction"},
                               {testutil::aggregate("sum", config::AggregateKind::kSum, "price")});
  bids.where = config::parseExpression("event_type == 2").expression;
  ASSERT_TRUE(bids.where.has_value());
  config.pipelines.push_back(bids);
  pipeline::SourceStats stats;
  RingSet rings(1, 1 << 14);
  GeneratorSource generator(
      config.sources[0].generator,
      pipeline::EventRouter(testutil::planFor(config), rings.pointers(), stats));

  runAndDrain(generator, rings, [] { return false; });

  using Bid = std::tuple<std::int64_t, std::string, double>;  // time, auction, price
  std::vector<Bid> expected;
  for (std::int64_t i = 0; i < n; ++i) {
    const NexmarkEvent e =
        nexmarkEvent(config.sources[0].generator, kStartMs, static_cast<std::uint64_t>(i));
    if (e.type != NexmarkEvent::kBid) continue;
    expected.emplace_back(e.ts_ms * kMs, std::to_string(e.auction), static_cast<double>(e.price));
  }
  std::vector<Bid> got;
  for (const Record& r : rings.records(0)) {
    if (r.type() != RecordType::kEvent) continue;
    const auto parts = testutil::keyParts(r.key(1));
    ASSERT_EQ(parts.size(), 1u);
    ASSERT_EQ(parts[0].first, pipeline::KeyPartType::kNumber);
    got.emplace_back(r.header.time, parts[0].second, r.value(0));
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(expected.size(), static_cast<std::size_t>(n / 50 * 46));
  EXPECT_EQ(stats.events.load(), static_cast<std::uint64_t>(n));
}

TEST(GeneratorSource, StopEndsAnEndlessRunWithStoppedEnd) {
  const config::Config config = generatorConfig(0);
  pipeline::SourceStats stats;
  RingSet rings(2, 1 << 10);
  GeneratorSource source(config.sources[0].generator,
                         pipeline::EventRouter(testutil::planFor(config), rings.pointers(), stats));
  EXPECT_FALSE(source.bounded());

  runAndDrain(source, rings, [&] { return rings.count(RecordType::kEvent) >= 10'000; });

  testutil::expectOneEndPerRing(rings, pipeline::kEndStopped);
  // Nothing routed is lost: each event reached the rings once per pipeline.
  EXPECT_GE(stats.events.load(), 5'000u);
  EXPECT_EQ(rings.events(0).size(), stats.events.load());
  EXPECT_EQ(rings.events(1).size(), stats.events.load());
}

TEST(GeneratorSource, ThrottleHoldsBackTheWallClockRate) {
  // 200 events at 2000/s cannot take less than 100 ms.
  const config::Config config = generatorConfig(200, 2000);
  pipeline::SourceStats stats;
  RingSet rings(2, 1 << 10);
  GeneratorSource source(config.sources[0].generator,
                         pipeline::EventRouter(testutil::planFor(config), rings.pointers(), stats));
  const auto began = std::chrono::steady_clock::now();
  runAndDrain(source, rings, [] { return false; });
  EXPECT_GE(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(100));
  EXPECT_EQ(stats.events.load(), 200u);
  testutil::expectOneEndPerRing(rings, 0);
}

TEST(GeneratorSource, StopIsSeenWhileThrottled) {
  // One event a second: after the first one the source sleeps, and must notice the stop.
  const config::Config config = generatorConfig(0, 1);
  pipeline::SourceStats stats;
  RingSet rings(1, 1 << 10);
  GeneratorSource source(config.sources[0].generator,
                         pipeline::EventRouter(testutil::planFor(config), rings.pointers(), stats));
  const auto began = std::chrono::steady_clock::now();
  runAndDrain(source, rings, [&] { return rings.count(RecordType::kEvent) >= 2; });
  // The first event is due at once, the next a second later: the stop, requested as soon as the
  // first arrived, must end the nap before the second is due.
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(900));
  EXPECT_EQ(stats.events.load(), 1u);
  testutil::expectOneEndPerRing(rings, pipeline::kEndStopped);
  EXPECT_EQ(rings.events(0).size(), stats.events.load());
}

}  // namespace
}  // namespace rivulet::connectors
