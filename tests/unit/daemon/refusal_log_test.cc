// RefusalLog: at most one line per (who, reason) per interval, naming who refused, why, how many
// more were refused since the last line, and the sample's first bytes, printable; a sample waits
// for its turn instead of being lost or logged early.
#include "daemon/refusal_log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rivulet::daemon {
namespace {

using pipeline::ErrorReason;

constexpr std::int64_t kSecond = 1'000'000'000;

struct Fixture {
  pipeline::Counter count{0};
  pipeline::RefusalSample sample;
  std::vector<std::string> lines;
  RefusalLog log{[this](std::string_view line) { lines.emplace_back(line); }, 10 * kSecond};
  std::vector<RefusalSlot> slots{RefusalSlot{"pipeline strmath (source trades)",
                                             "the source's other pipelines took it",
                                             ErrorReason::kWrongType, &count, &sample}};

  // The source thread's side: one more refusal, with its text.
  void refuse(std::string_view text) {
    pipeline::bump(count);
    sample.offer(text);
  }
};

TEST(RefusalLog, OneLinePerIntervalWithHowManyMore) {
  Fixture f;
  f.log.tick(f.slots, 0);
  EXPECT_TRUE(f.lines.empty()) << "nothing refused, nothing said";

  f.refuse(R"({"symbol":"AAPL","price":"n/a"})");
  f.refuse(R"({"second":1})");
  f.log.tick(f.slots, 1 * kSecond);
  ASSERT_EQ(f.lines.size(), 1u);
  EXPECT_EQ(f.lines[0],
            "pipeline strmath (source trades): refused an event (wrong_type; the source's other "
            "pipelines took it; 1 more not shown): {\"symbol\":\"AAPL\",\"price\":\"n/a\"}");

  // Within the interval: the next sample waits, however many come.
  for (int i = 0; i < 1000; ++i) f.refuse("event " + std::to_string(i));
  f.log.tick(f.slots, 5 * kSecond);
  f.log.tick(f.slots, 11 * kSecond - 1);
  EXPECT_EQ(f.lines.size(), 1u);
  f.log.tick(f.slots, 11 * kSecond);
  ASSERT_EQ(f.lines.size(), 2u);
  EXPECT_EQ(f.lines[1],
            "pipeline strmath (source trades): refused an event (wrong_type; the source's other "
            "pipelines took it; 999 more not shown since the last warning): event 0");

  // Quiet again: nothing, until the next refusal, which is said at once.
  f.log.tick(f.slots, 100 * kSecond);
  EXPECT_EQ(f.lines.size(), 2u);
  f.refuse("late riser");
  f.log.tick(f.slots, 101 * kSecond);
  ASSERT_EQ(f.lines.size(), 3u);
  EXPECT_EQ(f.lines[2],
            "pipeline strmath (source trades): refused an event (wrong_type; the source's other "
            "pipelines took it): late riser");
}

// Rebuilt slots (a reload) are the same slots by who and reason: no early repeat.
TEST(RefusalLog, SlotsAreKnownByWhoAndReason) {
  Fixture f;
  f.refuse("a");
  f.log.tick(f.slots, 0);
  f.refuse("b");
  const std::vector<RefusalSlot> rebuilt = f.slots;
  f.log.tick(rebuilt, kSecond);
  EXPECT_EQ(f.lines.size(), 1u);
  RefusalSlot other = f.slots[0];
  other.reason = ErrorReason::kMissingField;
  f.log.tick(std::vector<RefusalSlot>{other}, 2 * kSecond);
  ASSERT_EQ(f.lines.size(), 2u) << "another reason has its own turn";
  EXPECT_NE(f.lines[1].find("(missing_field;"), std::string::npos) << f.lines[1];
}

TEST(RefusalLog, SampleIsShownPrintableAndCut) {
  Fixture f;
  f.refuse(std::string("a\nb\x01\xff") + std::string(300, 'x'));
  f.log.tick(f.slots, 0);
  ASSERT_EQ(f.lines.size(), 1u);
  const std::string shown =
      "a\\x0ab\\x01\\xff" + std::string(pipeline::kSampleBytes - 5, 'x') + "...";
  EXPECT_NE(f.lines[0].find("): " + shown), std::string::npos) << f.lines[0];

  Fixture no_text;
  no_text.refuse("");
  no_text.log.tick(no_text.slots, 0);
  ASSERT_EQ(no_text.lines.size(), 1u);
  EXPECT_NE(no_text.lines[0].find("); it has no text"), std::string::npos) << no_text.lines[0];
}

}  // namespace
}  // namespace rivulet::daemon
