// FileSource: a file with good and bad lines is read to its end with every refusal counted under
// its reason and every good event delivered; a followed file delivers what is appended until
// stopped.
#include "connectors/sources/file_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/runtime/clock.h"
#include "tests/support/plans.h"
#include "tests/support/printers.h"
#include "tests/support/rings.h"

namespace rivulet::connectors {
namespace {

using pipeline::ErrorReason;
using pipeline::KeyPartType;
using pipeline::RecordType;
using testutil::kMs;
using testutil::Record;
using testutil::RingSet;

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("rivulet_file_source_" + std::to_string(getpid()) + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  void append(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << text;
    out.flush();
    ASSERT_TRUE(out.good());
  }

  // One file source with event time `ts` (ms) and two pipelines: the sum of px per sym, and a
  // count of everything (no key).
  static config::Config fileConfig(const std::string& path, bool follow, bool event_time = true) {
    config::Config config;
    config::SourceConfig source;
    source.name = "trades";
    source.kind = config::SourceKind::kFile;
    source.file = config::FileSpec{path, follow};
    if (event_time) source.time = config::TimeSpec{"ts", config::TimeUnit::kMillis};
    source.watermark.max_future = 3600LL * 1000 * kMs;
    config.sources.push_back(source);
    config.pipelines.push_back(
        testutil::pipelineConfig("px_by_sym", "trades", {"sym"},
                                 {testutil::aggregate("px", config::AggregateKind::kSum, "px")}));
    config.pipelines.push_back(testutil::pipelineConfig(
        "count_all", "trades", {}, {testutil::aggregate("n", config::AggregateKind::kCount)}));
    return config;
  }

  std::filesystem::path dir_;
};

constexpr std::int64_t kT0 = 1'700'000'000'000;  // ms

struct Expected {
  std::int64_t time;  // ns
  KeyPartType key_type;
  std::string key;
  double px;  // NaN: null or absent
  // A fractional time goes through a double: near 2^60 ns its steps are 256 ns.
  std::int64_t tolerance = 0;
};

TEST_F(FileSourceTest, BoundedFileCountsEveryReasonAndDeliversGoodEvents) {
  const double nan = std::nan("");
  std::string text;
  std::vector<Expected> expected;
  std::map<ErrorReason, std::uint64_t> errors;
  auto good = [&](const std::string& line, Expected e) {
    text += line + "\n";
    expected.push_back(e);
  };
  auto bad = [&](const std::string& line, ErrorReason reason) {
    text += line + "\n";
    ++errors[reason];
  };
  // Lines px_by_sym cannot take (no usable sym, px not a number) and count_all takes.
  std::map<ErrorReason, std::uint64_t> refused;
  std::vector<std::int64_t> counted_only;  // their times (ns)
  auto keyless = [&](std::int64_t ts, const std::string& rest, ErrorReason reason) {
    text += R"({"ts":)" + std::to_string(ts) + rest + "\n";
    ++refused[reason];
    counted_only.push_back(ts * kMs);
  };
  const std::string t0 = std::to_string(kT0);

  good(R"({"ts":)" + t0 + R"(,"sym":"AAPL","px":1.5})",
       {kT0 * kMs, KeyPartType::kString, "AAPL", 1.5});
  bad(R"({"ts":)" + t0 + ",", ErrorReason::kInvalidJson);
  bad("hello world", ErrorReason::kInvalidJson);
  bad(R"({"ts":)" + t0 + R"(,"sym":"A","px":1} trailing)", ErrorReason::kInvalidJson);
  good(R"({"sym":"MSFT","px":2,"ts":)" + std::to_string(kT0 + 500) + "}",
       {(kT0 + 500) * kMs, KeyPartType::kString, "MSFT", 2});
  bad("[1,2,3]", ErrorReason::kNotObject);
  bad(R"("just a string")", ErrorReason::kNotObject);
  text += "\n   \n\t\r\n";  // blank lines are neither events nor errors
  good(R"({"ts":)" + std::to_string(kT0 + 1000) + R"(,"sym":"A\"B","px":null})",
       {(kT0 + 1000) * kMs, KeyPartType::kString, "A\"B", nan});
  bad(R"({"sym":"A","px":1})", ErrorReason::kMissingTime);
  bad(R"({"ts":null,"sym":"A","px":1})", ErrorReason::kMissingTime);
  bad(R"({"ts":"2023-11-14","sym":"A","px":1})", ErrorReason::kBadTime);
  bad(R"({"ts":1e300,"sym":"A","px":1})", ErrorReason::kBadTime);
  good(R"({"ts":)" + std::to_string(kT0 + 1500) + R"(,"sym":"AAPL"})",
       {(kT0 + 1500) * kMs, KeyPartType::kString, "AAPL", nan});
  keyless(kT0 + 1501, R"(,"px":1})", ErrorReason::kMissingField);
  keyless(kT0 + 1502, R"(,"sym":null,"px":1})", ErrorReason::kMissingField);
  keyless(kT0 + 1503, R"(,"sym":{"n":1},"px":1})", ErrorReason::kWrongType);
  keyless(kT0 + 1504, R"(,"sym":"A","px":"1.5"})", ErrorReason::kWrongType);
  keyless(kT0 + 1505, R"(,"sym":"A","px":[1]})", ErrorReason::kWrongType);
  text += R"({"ts":)" + std::to_string(kT0 + 2000) + R"(,"sym":"X","px":-3e2})" + "\r\n";
  expected.push_back({(kT0 + 2000) * kMs, KeyPartType::kString, "X", -300});
  good(R"({"ts":)" + std::to_string(kT0 + 2500) + R"(,"sym":7,"px":0})",
       {(kT0 + 2500) * kMs, KeyPartType::kNumber, "7", 0});
  // Over the 1 MiB line limit; the line after it must survive.
  bad(R"({"ts":)" + t0 + R"(,"sym":")" + std::string(1 << 20, 'x') + R"(","px":1})",
      ErrorReason::kLineTooLong);
  good(R"({"ts":)" + std::to_string(kT0 + 3000) + R"(,"sym":true,"px":1})",
       {(kT0 + 3000) * kMs, KeyPartType::kBool, "true", 1});
  keyless(kT0 + 3001, R"(,"sym":")" + std::string(600, 'k') + R"(","px":1})",
          ErrorReason::kKeyTooLong);
  bad(R"({"ts":4102444800000,"sym":"A","px":1})", ErrorReason::kFutureTime);  // year 2100
  good(R"({"ts":)" + std::to_string(kT0 + 3250) + R"(.5,"sym":"F","px":1e-3})",
       {(kT0 + 3250) * kMs + kMs / 2, KeyPartType::kString, "F", 1e-3, 256});
  // The last line has no newline.
  text += R"({"ts":)" + std::to_string(kT0 + 3500) + R"(,"sym":"Z","px":4})";
  expected.push_back({(kT0 + 3500) * kMs, KeyPartType::kString, "Z", 4});

  const std::string path = write("events.jsonl", text);
  const config::Config config = fileConfig(path, false);
  pipeline::SourceStats stats;
  pipeline::PipelineSourceStats by_sym_stats;
  pipeline::SourcePlan plan = testutil::planFor(config);
  plan.routes[0].stats = &by_sym_stats;
  RingSet rings(2, 1 << 12);
  FileSource source(config.sources[0], pipeline::EventRouter(plan, rings.pointers(), stats));
  EXPECT_TRUE(source.bounded());
  source.run(std::stop_token{});  // bounded: returns at the end of the file
  rings.drain();

  // Every refusal under its own reason, the source's or px_by_sym's, and nothing else.
  for (std::size_t r = 1; r < static_cast<std::size_t>(ErrorReason::kCount); ++r) {
    const auto reason = static_cast<ErrorReason>(r);
    EXPECT_EQ(testutil::errors(stats, reason), errors[reason]) << pipeline::reasonName(reason);
    EXPECT_EQ(by_sym_stats.refused[r].load(), refused[reason]) << pipeline::reasonName(reason);
  }
  EXPECT_EQ(stats.events.load(), expected.size() + counted_only.size());

  // The keyed pipeline: each good line once, in file order within its ring.
  const std::vector<Record> by_sym = rings.events(0);
  ASSERT_EQ(by_sym.size(), expected.size());
  std::map<std::int64_t, const Record*> by_time;
  for (const Record& r : by_sym) EXPECT_TRUE(by_time.emplace(r.header.time, &r).second);
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.key);
    const auto it = by_time.lower_bound(e.time - e.tolerance);
    ASSERT_TRUE(it != by_time.end() && it->first <= e.time + e.tolerance)
        << "no event at " << e.time;
    const Record& r = *it->second;
    const auto parts = testutil::keyParts(r.key(1));
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts[0].first, e.key_type);
    EXPECT_EQ(parts[0].second, e.key);
    if (std::isnan(e.px)) {
      EXPECT_TRUE(std::isnan(r.value(0))) << r.value(0);
    } else {
      EXPECT_DOUBLE_EQ(r.value(0), e.px);
    }
  }
  for (std::size_t ring = 0; ring < rings.size(); ++ring) {
    std::int64_t previous = pipeline::kMinTime;
    for (const Record& r : rings.records(ring)) {
      if (r.type() != RecordType::kEvent) continue;
      const std::size_t values = r.header.pipeline == 0 ? 1 : 0;  // sum(px), or count()
      EXPECT_EQ(pipeline::stageOf(r.keyHash(values), 2), ring);
      if (r.header.pipeline != 0) continue;
      EXPECT_GT(r.header.time, previous) << "out of file order on ring " << ring;
      previous = r.header.time;
    }
  }

  // The unkeyed pipeline: the same events and those px_by_sym refused, each with an empty key.
  const std::vector<Record> all = rings.events(1);
  ASSERT_EQ(all.size(), expected.size() + counted_only.size());
  for (const Record& r : all) {
    EXPECT_EQ(r.header.key_size, 0u);
    EXPECT_TRUE(by_time.count(r.header.time) ||
                std::count(counted_only.begin(), counted_only.end(), r.header.time) == 1)
        << r.header.time;
  }

  // In time order with no delay: the last watermark on every ring is the last event's time.
  EXPECT_GT(testutil::checkWatermarks(rings), 0u);
  for (std::size_t ring = 0; ring < rings.size(); ++ring) {
    std::int64_t last = pipeline::kMinTime;
    for (const Record& r : rings.records(ring))
      if (r.type() == RecordType::kWatermark) last = r.header.time;
    EXPECT_EQ(last, (kT0 + 3500) * kMs) << "ring " << ring;
  }
  testutil::expectOneEndPerRing(rings, 0);
  EXPECT_EQ(rings.records(0).back().header.time, (kT0 + 3500) * kMs);
}

TEST_F(FileSourceTest, EmptyFileEndsAtOnce) {
  const std::string path = write("empty.jsonl", "");
  const config::Config config = fileConfig(path, false);
  pipeline::SourceStats stats;
  RingSet rings(3, 64);
  FileSource source(config.sources[0],
                    pipeline::EventRouter(testutil::planFor(config), rings.pointers(), stats));
  source.run(std::stop_token{});
  rings.drain();
  testutil::expectOneEndPerRing(rings, 0);
  EXPECT_EQ(rings.count(RecordType::kEvent), 0u);
  EXPECT_EQ(stats.events.load(), 0u);
  EXPECT_EQ(testutil::totalErrors(stats), 0u);
}

TEST_F(FileSourceTest, ProcessingTimeStampsEventsWithTheWallClock) {
  const std::string path = write("events.jsonl", R"({"sym":"A","px":1})"
                                                 "\n"
                                                 R"({"sym":"B","px":2,"ts":5})"
                                                 "\n");
  const config::Config config = fileConfig(path, false, /*event_time=*/false);
  pipeline::SourceStats stats;
  RingSet rings(1, 256);
  FileSource source(config.sources[0],
                    pipeline::EventRouter(testutil::planFor(config), rings.pointers(), stats));
  const std::int64_t before = pipeline::wallNanos();
  source.run(std::stop_token{});
  const std::int64_t after = pipeline::wallNanos();
  rings.drain();
  const std::vector<Record> events = rings.events(0);
  ASSERT_EQ(events.size(), 2u);
  for (const Record& r : events) {
    EXPECT_GE(r.header.time, before);
    EXPECT_LE(r.header.time, after);
  }
  EXPECT_EQ(testutil::totalErrors(stats), 0u);
}

TEST_F(FileSourceTest, MissingFileFailsAtStartNamingSourceAndPath) {
  const std::string path = (dir_ / "no_such_file.jsonl").string();
  const config::Config config = fileConfig(path, false);
  pipeline::SourceStats stats;
  RingSet rings(1, 64);
  try {
    FileSource source(config.sources[0],
                      pipeline::EventRouter(testutil::planFor(config), rings.pointers(), stats));
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("trades"), std::string::npos) << what;
    EXPECT_NE(what.find(path), std::string::npos) << what;
  }
}

TEST_F(FileSourceTest, FollowDeliversAppendedLinesUntilStopped) {
  auto line = [](std::int64_t ms, const std::string& sym) {
    return R"({"ts":)" + std::to_string(ms) + R"(,"sym":")" + sym + R"(","px":1})";
  };
  const std::string path = write("follow.jsonl", line(kT0, "a") + "\n");
  const config::Config config = fileConfig(path, true);
  pipeline::SourceStats stats;
  RingSet rings(2, 1 << 10);
  FileSource source(config.sources[0],
                    pipeline::EventRouter(testutil::planFor(config), rings.pointers(), stats));
  EXPECT_FALSE(source.bounded());

  std::atomic<bool> done{false};
  std::jthread thread([&](std::stop_token stop) {
    source.run(stop);
    done.store(true, std::memory_order_release);
  });
  auto events = [&] { return rings.events(0).size(); };
  auto watermarkIs = [&](std::int64_t time) {
    for (std::size_t ring = 0; ring < rings.size(); ++ring) {
      std::int64_t last = pipeline::kMinTime;
      for (const Record& r : rings.records(ring))
        if (r.type() == RecordType::kWatermark) last = r.header.time;
      if (last != time) return false;
    }
    return true;
  };

  EXPECT_TRUE(rings.drainUntil([&] { return events() == 1 && watermarkIs(kT0 * kMs); }));

  // A whole line and the start of the next: only the whole one may arrive.
  append(path, line(kT0 + 100, "b") + "\n" + R"({"ts":)" + std::to_string(kT0 + 200));
  EXPECT_TRUE(rings.drainUntil([&] { return events() == 2 && watermarkIs((kT0 + 100) * kMs); }));
  EXPECT_EQ(events(), 2u);

  append(path, R"(,"sym":"c","px":1})"
               "\n");
  EXPECT_TRUE(rings.drainUntil([&] { return events() == 3 && watermarkIs((kT0 + 200) * kMs); }));
  EXPECT_FALSE(rings.ended()) << "a followed file has no end";

  thread.request_stop();
  EXPECT_TRUE(rings.drainUntil([&] { return done.load(std::memory_order_acquire); }));
  thread.join();
  rings.drain();
  testutil::expectOneEndPerRing(rings, pipeline::kEndStopped);
  EXPECT_EQ(stats.events.load(), 3u);
  EXPECT_EQ(testutil::totalErrors(stats), 0u);
  std::vector<std::string> keys;
  for (const Record& r : rings.events(0)) keys.push_back(testutil::keyParts(r.key(1)).at(0).second);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "c"}));
}

}  // namespace
}  // namespace rivulet::connectors
