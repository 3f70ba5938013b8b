// EventRouter, single-threaded: event time in every unit and its refusals (bad, missing, too far
// in the future), the watermark and idle control records a flush sends, and the end of the
// stream.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "pipeline/event_router.h"
#include "pipeline/model/record.h"
#include "tests/support/field_values.h"
#include "tests/support/plans.h"
#include "tests/support/printers.h"
#include "tests/support/rings.h"
#include "tests/unit/pipeline/router_rig.h"

namespace rivulet::pipeline {
namespace {

using namespace testutil;

// ---- event time ----

struct TimeCase {
  const char* name;
  config::TimeUnit unit;
  config::FieldValue field;
  std::int64_t nanos;
};

void PrintTo(const TimeCase& c, std::ostream* os) { *os << c.name; }

class EventTimeTest : public ::testing::TestWithParam<TimeCase> {};

TEST_P(EventTimeTest, ConvertedToNanoseconds) {
  const TimeCase& c = GetParam();
  std::int64_t nanos = 0;
  ASSERT_TRUE(toNanos(c.field, c.unit, nanos));
  EXPECT_EQ(nanos, c.nanos);

  SourceOptions options;
  options.time = config::TimeSpec{"ts", c.unit};
  Router r({countBy("all", {})}, 1, options);
  ASSERT_EQ(r.route({{"ts", c.field}}), ErrorReason::kNone);
  r.flush();
  const std::vector<Record> events = r.rings().events(0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].header.time, c.nanos);
}

INSTANTIATE_TEST_SUITE_P(
    Units, EventTimeTest,
    ::testing::Values(
        TimeCase{"Seconds", config::TimeUnit::kSeconds, integer(1'700'000'000),
                 1'700'000'000 * kSecond},
        TimeCase{"FractionalSeconds", config::TimeUnit::kSeconds, number(1.25, "1.25"),
                 1'250'000'000},
        TimeCase{"FractionalEpochSeconds", config::TimeUnit::kSeconds,
                 number(1'700'000'000.5, "1700000000.5"), 1'700'000'000 * kSecond + kSecond / 2},
        TimeCase{"NegativeSeconds", config::TimeUnit::kSeconds, integer(-2), -2 * kSecond},
        TimeCase{"SecondsExponent", config::TimeUnit::kSeconds, number(1e9, "1e9"),
                 1'000'000'000 * kSecond},
        TimeCase{"Millis", config::TimeUnit::kMillis, integer(1'700'000'000'123),
                 1'700'000'000'123 * kMs},
        TimeCase{"FractionalMillis", config::TimeUnit::kMillis, number(1.5, "1.5"), 1'500'000},
        TimeCase{"Micros", config::TimeUnit::kMicros, integer(1'700'000'000'123'456),
                 1'700'000'000'123'456'000},
        TimeCase{"Nanos", config::TimeUnit::kNanos, integer(1'700'000'000'123'456'789),
                 1'700'000'000'123'456'789},
        TimeCase{"NanosMax", config::TimeUnit::kNanos,
                 integer(std::numeric_limits<std::int64_t>::max()),
                 std::numeric_limits<std::int64_t>::max()},
        TimeCase{"MillisLargestThatFits", config::TimeUnit::kMillis, integer(9'223'372'036'854),
                 9'223'372'036'854 * kMs},
        TimeCase{"FractionalNanosRound", config::TimeUnit::kNanos, number(2.5, "2.5"), 3}),
    [](const ::testing::TestParamInfo<TimeCase>& tested) { return tested.param.name; });

TEST(EventRouter, BadOrMissingTimeIsRefused) {
  Router r({countBy("all", {})}, 1);
  EXPECT_EQ(r.route({}), ErrorReason::kMissingTime);
  EXPECT_EQ(r.route({{"ts", null()}}), ErrorReason::kMissingTime);
  EXPECT_EQ(r.route({{"ts", str("1700000000000")}}), ErrorReason::kBadTime);
  EXPECT_EQ(r.route({{"ts", boolean(true)}}), ErrorReason::kBadTime);
  EXPECT_EQ(r.route({{"ts", other()}}), ErrorReason::kBadTime);
  EXPECT_EQ(r.route({{"ts", integer(9'223'372'036'855)}}), ErrorReason::kBadTime);  // ms overflow
  EXPECT_EQ(r.route({{"ts", integer(-9'223'372'036'855)}}), ErrorReason::kBadTime);
  EXPECT_EQ(r.route({{"ts", number(1e300, "1e300")}}), ErrorReason::kBadTime);
  EXPECT_EQ(r.route({{"ts", number(-1e300, "-1e300")}}), ErrorReason::kBadTime);
  EXPECT_EQ(r.route({{"ts", number(9.3e12, "9.3e12")}}), ErrorReason::kBadTime);  // ms: > 2^63 ns
  r.flush();
  EXPECT_EQ(r.errors(ErrorReason::kMissingTime), 2u);
  EXPECT_EQ(r.errors(ErrorReason::kBadTime), 8u);
  EXPECT_EQ(r.rings().count(RecordType::kEvent), 0u);
  EXPECT_EQ(r.rings().count(RecordType::kWatermark), 0u);
}

TEST(ToNanos, DoublesAtTheEdgeOfInt64) {
  std::int64_t nanos = 0;
  // The largest double below 2^63 fits; 2^63 itself does not.
  EXPECT_TRUE(toNanos(number(9223372036854774784.0, "9223372036854774784.0"),
                      config::TimeUnit::kNanos, nanos));
  EXPECT_EQ(nanos, 9'223'372'036'854'774'784);
  EXPECT_FALSE(toNanos(number(9223372036854775808.0, "9223372036854775808.0"),
                       config::TimeUnit::kNanos, nanos));
  EXPECT_FALSE(toNanos(number(-9223372036854775808.0, "-9223372036854775808.0"),
                       config::TimeUnit::kNanos, nanos));
  EXPECT_FALSE(toNanos(str("1"), config::TimeUnit::kNanos, nanos));
}

TEST(EventRouter, FutureTimeIsRefusedPastMaxFuture) {
  SourceOptions options;
  options.time = config::TimeSpec{"ts", config::TimeUnit::kNanos};
  options.watermark.max_future = 3600 * kSecond;
  Router r({countBy("all", {})}, 1, options);
  EXPECT_EQ(r.route({{"ts", integer(kNow + 3600 * kSecond)}}, kNow), ErrorReason::kNone);
  EXPECT_EQ(r.route({{"ts", integer(kNow + 3600 * kSecond + 1)}}, kNow), ErrorReason::kFutureTime);
  EXPECT_EQ(r.route({{"ts", integer(kNow - 3600 * kSecond)}}, kNow), ErrorReason::kNone);
  EXPECT_EQ(r.route({{"ts", integer(std::numeric_limits<std::int64_t>::max())}}, kNow),
            ErrorReason::kFutureTime);
  // The clamp moves with the clock the caller passes.
  EXPECT_EQ(r.route({{"ts", integer(kNow + 3600 * kSecond + 1)}}, kNow + 1), ErrorReason::kNone);
  r.flush();
  EXPECT_EQ(r.errors(ErrorReason::kFutureTime), 2u);
  EXPECT_EQ(r.stats().events.load(), 3u);

  Router unclamped({countBy("all", {})}, 1, {config::TimeSpec{"ts", config::TimeUnit::kNanos}});
  EXPECT_EQ(unclamped.route({{"ts", integer(std::numeric_limits<std::int64_t>::max())}}, kNow),
            ErrorReason::kNone);
}

// An event far in the past is not in the future, however far back it is.
TEST(EventRouter, FutureClampHoldsForTheEarliestTimes) {
  SourceOptions options;
  options.time = config::TimeSpec{"ts", config::TimeUnit::kNanos};
  options.watermark.max_future = 3600 * kSecond;
  Router r({countBy("all", {})}, 1, options);
  EXPECT_EQ(r.route({{"ts", integer(std::numeric_limits<std::int64_t>::min())}}, kNow),
            ErrorReason::kNone);
  EXPECT_EQ(r.route({{"ts", integer(-9'223'372'036'854)}}, kNow), ErrorReason::kNone);
  // Nor does a clock so late that now + max_future would not fit make anything "future".
  EXPECT_EQ(r.route({{"ts", integer(kMaxTime)}}, kMaxTime - 1), ErrorReason::kNone);
  EXPECT_EQ(r.errors(ErrorReason::kFutureTime), 0u);
}

// ---- watermarks ----

TEST(EventRouter, WatermarkIsMaxTimeMinusDelaySentToEveryRingWhenItAdvances) {
  SourceOptions options;
  options.watermark.delay = 500 * kMs;
  Router r({countBy("by_k", {"k"})}, 3, options);
  for (std::int64_t ts : {1000, 3000, 2000})
    ASSERT_EQ(r.route({{"ts", integer(ts)}, {"k", str("k" + std::to_string(ts))}}),
              ErrorReason::kNone);
  // Nothing is visible before the flush.
  r.rings().drain();
  EXPECT_EQ(r.rings().count(RecordType::kEvent), 0u);

  r.flush();
  for (std::size_t ring = 0; ring < 3; ++ring) {
    std::vector<std::int64_t> watermarks;
    for (const Record& rec : r.take(ring)) {
      if (rec.type() == RecordType::kWatermark) watermarks.push_back(rec.header.time);
    }
    // 500 ms after the first event, 2500 ms after the second (each passes a window end); the
    // third moved nothing.
    EXPECT_EQ(watermarks, (std::vector<std::int64_t>{500 * kMs, 2500 * kMs})) << "ring " << ring;
  }
  EXPECT_EQ(r.rings().count(RecordType::kEvent), 3u);

  // No new records when nothing advanced: neither on a bare flush nor after an older event.
  r.flush();
  for (const auto& records : r.takeAll()) EXPECT_TRUE(records.empty());
  ASSERT_EQ(r.route({{"ts", integer(2999)}, {"k", str("late")}}), ErrorReason::kNone);
  r.flush();
  for (const auto& records : r.takeAll())
    for (const Record& rec : records) EXPECT_EQ(rec.type(), RecordType::kEvent);

  ASSERT_EQ(r.route({{"ts", integer(4000)}, {"k", str("k4000")}}), ErrorReason::kNone);
  r.flush();
  for (const auto& records : r.takeAll()) {
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.back().type(), RecordType::kWatermark);
    EXPECT_EQ(records.back().header.time, 3500 * kMs);
    EXPECT_EQ(std::count_if(records.begin(), records.end(),
                            [](const Record& rec) { return rec.type() == RecordType::kWatermark; }),
              1);
  }
}

TEST(EventRouter, WatermarkWithZeroDelayIsTheMaxTime) {
  Router r({countBy("all", {})}, 2);
  ASSERT_EQ(r.route({{"ts", integer(7)}}), ErrorReason::kNone);
  r.flush();
  for (const auto& records : r.takeAll()) {
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.back().type(), RecordType::kWatermark);
    EXPECT_EQ(records.back().header.time, 7 * kMs);
  }
}

// A delay reaching below the earliest time saturates instead of wrapping around.
TEST(EventRouter, WatermarkSaturatesAtTheEarliestTime) {
  SourceOptions options;
  options.time = config::TimeSpec{"ts", config::TimeUnit::kNanos};
  options.watermark.delay = 3600 * kSecond;
  Router r({countBy("all", {})}, 1, options);
  ASSERT_EQ(r.route({{"ts", integer(kMinTime + 1000)}}), ErrorReason::kNone);
  r.flush();
  EXPECT_EQ(r.rings().count(RecordType::kWatermark), 0u) << "nothing is earlier than kMinTime";
  ASSERT_EQ(r.route({{"ts", integer(0)}}), ErrorReason::kNone);
  r.flush();
  const std::vector<Record> records = r.take(0);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().type(), RecordType::kWatermark);
  EXPECT_EQ(records.back().header.time, -3600 * kSecond);
}

TEST(EventRouter, ProcessingTimeUsesNowAndAdvancesWithoutEvents) {
  SourceOptions options;
  options.time = std::nullopt;
  options.watermark.delay = kSecond;
  Router r({countBy("by_k", {"k"})}, 2, options);
  EXPECT_EQ(r.router().plan().time_field, -1);
  ASSERT_EQ(r.route({{"k", str("a")}}, 5 * kSecond), ErrorReason::kNone);
  r.flush(5 * kSecond);
  const std::vector<Record> events = r.rings().events(0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].header.time, 5 * kSecond);
  for (const auto& records : r.takeAll()) {
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.back().type(), RecordType::kWatermark);
    EXPECT_EQ(records.back().header.time, 4 * kSecond);
  }

  r.flush(6 * kSecond);  // no event: the clock alone moves it
  for (const auto& records : r.takeAll()) {
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].type(), RecordType::kWatermark);
    EXPECT_EQ(records[0].header.time, 5 * kSecond);
  }
  r.flush(6 * kSecond);
  r.flush(5 * kSecond + kSecond / 2);  // a clock step back never moves it back
  for (const auto& records : r.takeAll()) EXPECT_TRUE(records.empty());
}

// After `idle` without events the source is idle: a kIdle goes to every ring, carrying a watermark
// that goes on with the wall clock from the last event (latest time + silence - delay), so the
// windows of a quiet stream close; kIdle again each time it rises.
TEST(EventRouter, IdleIsSentAfterTheIdleTimeAndGoesOnWithTheClock) {
  SourceOptions options;
  options.watermark.idle = 5 * kSecond;
  options.watermark.delay = 2 * kSecond;
  Router r({countBy("by_k", {"k"})}, 3, options);
  auto idles = [](const std::vector<Record>& records) {
    return std::count_if(records.begin(), records.end(),
                         [](const Record& rec) { return rec.type() == RecordType::kIdle; });
  };

  // A source that never had an event goes idle too: its stages must not wait for it.
  r.flush(kNow, kSteady);  // starts the idle clock
  r.flush(kNow, kSteady + 5 * kSecond - 1);
  for (const auto& records : r.takeAll()) EXPECT_EQ(idles(records), 0);
  r.flush(kNow, kSteady + 5 * kSecond);
  for (const auto& records : r.takeAll()) {
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].type(), RecordType::kIdle);
    EXPECT_EQ(records[0].header.time, kMinTime);  // no event, no watermark
  }
  r.flush(kNow, kSteady + 6 * kSecond);
  r.flush(kNow, kSteady + 100 * kSecond);
  for (const auto& records : r.takeAll()) EXPECT_TRUE(records.empty()) << "idle sent twice";

  // An event wakes it; idle again 5 s after the last flush that saw events, with the watermark
  // the event time reached plus the silence.
  const std::int64_t woke = kSteady + 200 * kSecond;
  ASSERT_EQ(r.route({{"ts", integer(10'000)}, {"k", str("a")}}), ErrorReason::kNone);
  r.flush(kNow, woke);
  for (const auto& records : r.takeAll()) EXPECT_EQ(idles(records), 0);
  r.flush(kNow, woke + 5 * kSecond - 1);
  for (const auto& records : r.takeAll()) EXPECT_EQ(idles(records), 0);
  r.flush(kNow, woke + 5 * kSecond);
  r.flush(kNow, woke + 5 * kSecond);  // nothing new: nothing sent
  r.flush(kNow, woke + 50 * kSecond);
  for (const auto& records : r.takeAll()) {
    ASSERT_EQ(records.size(), 2u);
    for (const Record& rec : records) EXPECT_EQ(rec.type(), RecordType::kIdle);
    EXPECT_EQ(records[0].header.time, (10 + 5 - 2) * kSecond);
    EXPECT_EQ(records[1].header.time, (10 + 50 - 2) * kSecond);
  }

  // Back from idleness, events move it on from there: an older event time never moves it back.
  ASSERT_EQ(r.route({{"ts", number(20'000)}, {"k", str("a")}}), ErrorReason::kNone);
  r.flush(kNow, woke + 51 * kSecond);
  for (const auto& records : r.takeAll()) {
    EXPECT_EQ(idles(records), 0);
    for (const Record& rec : records) EXPECT_NE(rec.type(), RecordType::kWatermark);
  }
}

// Lateness is judged per event: the watermark goes to every stage right behind the event that
// moves it past a window's fire time, before the next event, whatever the flushes; between two
// such points nothing is sent before the flush.
TEST(EventRouter, WatermarkGoesOutBeforeTheNextEventWhereAWindowFires) {
  Router r({countBy("all", {})}, 2);
  for (std::int64_t ts : {100, 900, 1000, 1500, 2500, 2400})
    ASSERT_EQ(r.route({{"ts", integer(ts)}}), ErrorReason::kNone);
  r.flush();
  const auto sequence = [](const std::vector<Record>& records) {
    std::vector<std::string> out;
    for (const Record& rec : records) {
      out.push_back((rec.type() == RecordType::kEvent ? "e" : "w") +
                    std::to_string(rec.header.time / kMs));
    }
    return out;
  };
  // No group_by: every event goes to one stage; the other ring gets the watermarks alone.
  std::vector<std::vector<std::string>> rings;
  for (auto& records : r.takeAll()) rings.push_back(sequence(records));
  const std::vector<std::string> events{"e100",  "w100",  "e900",  "e1000", "w1000",
                                        "e1500", "e2500", "w2500", "e2400"};
  const std::vector<std::string> alone{"w100", "w1000", "w2500"};
  EXPECT_TRUE((rings[0] == events && rings[1] == alone) ||
              (rings[1] == events && rings[0] == alone))
      << ::testing::PrintToString(rings);
}

// The points that matter: with emit updates a window fires at its end and closes to late events
// at end + lateness; a hopping window's ends come every slide; for sessions every rise counts.
TEST(EventRouter, WatermarkDecisionPointsFollowTheWindows) {
  const auto watermarks = [](config::PipelineConfig p, std::vector<std::int64_t> times) {
    Router r({std::move(p)}, 1);
    for (std::int64_t ts : times) EXPECT_EQ(r.route({{"ts", integer(ts)}}), ErrorReason::kNone);
    // What was sent at once, then the flush's watermark if it rose since.
    std::vector<std::int64_t> out;
    r.router().flush(kNow, kSteady);
    r.rings().drain();
    for (const Record& rec : r.rings().records(0)) {
      if (rec.type() == RecordType::kWatermark) out.push_back(rec.header.time / kMs);
    }
    return out;
  };
  config::PipelineConfig updates = countBy("u", {});
  updates.emit_updates = true;
  updates.allowed_lateness = 300 * kMs;
  // Window [-1000, 0) closes at 300, [0, 1000) fires at 1000 and closes at 1300.
  EXPECT_EQ(watermarks(updates, {100, 250, 300, 999, 1000, 1200, 1299, 1300, 1700, 2000}),
            (std::vector<std::int64_t>{100, 300, 1000, 1300, 2000}));
  config::PipelineConfig hopping = countBy("h", {});
  hopping.window = config::WindowSpec{config::WindowKind::kHopping, 1000 * kMs, 250 * kMs};
  EXPECT_EQ(watermarks(hopping, {10, 240, 250, 260, 499, 760, 999}),
            (std::vector<std::int64_t>{10, 250, 760, 999}));
  config::PipelineConfig sessions = countBy("s", {});
  sessions.window = config::WindowSpec{config::WindowKind::kSession, 1000 * kMs, 0};
  EXPECT_EQ(watermarks(sessions, {10, 5, 11, 11, 40}), (std::vector<std::int64_t>{10, 11, 40}));
}

// setPublishedThrough(floor): an event goes as a kPublishedEvent exactly when every window
// holding it starts at or before the floor (all of them closed when the watermark passed the
// windows of the events up to the floor), by brute force over the windows, for tumbling, hopping
// and session windows and times on both sides of zero; kMinTime flags none.
TEST(EventRouter, PublishedThroughFlagsTheEventsOfWindowsClosedByTheFloor) {
  config::PipelineConfig tumbling = countBy("t", {});
  config::PipelineConfig hopping = countBy("h", {});
  hopping.window = config::WindowSpec{config::WindowKind::kHopping, 1000 * kMs, 300 * kMs};
  hopping.allowed_lateness = 200 * kMs;
  config::PipelineConfig sessions = countBy("s", {});
  sessions.window = config::WindowSpec{config::WindowKind::kSession, 1000 * kMs, 0};
  // Every window [start, start + size) holding `ts` starts at or before `floor`.
  const auto published = [](std::int64_t size, std::int64_t slide, std::int64_t ts,
                            std::int64_t floor) {
    std::int64_t start = ts - ((ts % slide) + slide) % slide;  // the last start at or before ts
    for (; start > ts - size; start -= slide) {
      if (start > floor) return false;
    }
    return true;
  };
  std::mt19937 random(::testing::UnitTest::GetInstance()->random_seed());
  std::uniform_int_distribution<std::int64_t> time(-3000, 3000);
  struct Case {
    config::PipelineConfig pipeline;
    std::int64_t size, slide;  // a session: its own window [t, t + gap) for each start
  };
  for (const Case& c :
       {Case{tumbling, 1000, 1000}, Case{hopping, 1000, 300}, Case{sessions, 1000, 1}}) {
    Router r({c.pipeline}, 1);
    for (int i = 0; i < 200; ++i) {
      const std::int64_t floor = i % 10 == 0 ? kMinTime : time(random);
      const std::int64_t ts = time(random);
      r.router().setPublishedThrough(floor == kMinTime ? kMinTime : floor * kMs);
      ASSERT_EQ(r.route({{"ts", integer(ts)}}), ErrorReason::kNone);
      r.flush();
      const std::vector<Record> events = r.rings().events(0);
      ASSERT_FALSE(events.empty());
      const bool flagged = events.back().type() == RecordType::kPublishedEvent;
      const bool want = floor != kMinTime && published(c.size, c.slide, ts, floor);
      EXPECT_EQ(flagged, want) << c.pipeline.name << ": event at " << ts << " ms, floor " << floor;
    }
  }
}

TEST(EventRouter, NoIdleWhenIdleIsOff) {
  Router r({countBy("all", {})}, 2);
  r.flush(kNow, kSteady);
  r.flush(kNow, kSteady + 1'000'000 * kSecond);
  EXPECT_EQ(r.rings().count(RecordType::kIdle), 0u);
}

// ---- end of stream ----

TEST(EventRouter, EndGoesToEveryRingAndCountsUnflushedEvents) {
  Router r({countBy("by_k", {"k"})}, 3);
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(r.route({{"ts", integer(100 + i)}, {"k", str(std::to_string(i))}}),
              ErrorReason::kNone);
  r.router().end(false);
  r.rings().drain();
  EXPECT_EQ(r.stats().events.load(), 10u);
  EXPECT_EQ(r.rings().count(RecordType::kEvent), 10u);
  testutil::expectOneEndPerRing(r.rings(), 0);
  EXPECT_EQ(r.rings().records(0).back().header.time, 109 * kMs);

  Router stopped({countBy("all", {})}, 2);
  stopped.router().end(true);
  stopped.rings().drain();
  testutil::expectOneEndPerRing(stopped.rings(), kEndStopped);
}

TEST(EventRouter, SourceReadByNoPipelineStillCountsAndWatermarks) {
  Router r({}, 2);
  EXPECT_EQ(r.router().plan().routes.size(), 0u);
  ASSERT_EQ(r.route({{"ts", integer(5)}}), ErrorReason::kNone);
  r.flush();
  EXPECT_EQ(r.stats().events.load(), 1u);
  EXPECT_EQ(r.rings().count(RecordType::kEvent), 0u);
  EXPECT_EQ(r.rings().count(RecordType::kWatermark), 2u);
}

}  // namespace
}  // namespace rivulet::pipeline
