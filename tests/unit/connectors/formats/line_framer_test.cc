// LineFramer: the lines handed out must not depend on how the byte stream was cut into reads;
// over-long lines are reported once and skipped; every line comes with readable padding.
#include "connectors/formats/line_framer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/printers.h"
#include "tests/support/slowdown.h"

namespace rivulet::connectors {
namespace {

// Stands for an on_too_long() call among the lines (a line never holds '\n').
const std::string kTooLong = "\n<too long>";

// Collects what a framer hands out, checking the capacity promise of every line.
class Collector {
 public:
  void line(std::string_view line, std::size_t capacity) {
    if (capacity < line.size() + LineFramer::kPadding) {
      ++capacity_violations_;
    } else {
      // Touch the line, its padding and the last byte said to be readable: they lie in one
      // buffer, so ASan reports a promise past its end.
      unsigned sum = static_cast<unsigned char>(line.data()[capacity - 1]);
      for (std::size_t i = 0; i < line.size() + LineFramer::kPadding; ++i)
        sum += static_cast<unsigned char>(line.data()[i]);
      checksum_ = checksum_ + sum;
    }
    items_.emplace_back(line);
  }
  void tooLong() { items_.push_back(kTooLong); }

  auto onLine() {
    return [this](std::string_view l, std::size_t capacity) { line(l, capacity); };
  }
  auto onTooLong() {
    return [this] { tooLong(); };
  }

  const std::vector<std::string>& items() const { return items_; }
  int capacityViolations() const { return capacity_violations_; }
  void clear() { items_.clear(); }

 private:
  std::vector<std::string> items_;
  int capacity_violations_ = 0;
  volatile unsigned checksum_ = 0;
};

// Feeds `data` as a reader would: each read gets min(next chunk size, writable room) bytes.
void feed(LineFramer& framer, std::string_view data, const std::function<std::size_t()>& chunk,
          Collector& out) {
  std::size_t at = 0;
  while (at < data.size()) {
    const std::span<char> room = framer.writable();
    ASSERT_FALSE(room.empty());
    const std::size_t n = std::min({chunk(), room.size(), data.size() - at});
    ASSERT_GT(n, 0u);
    std::memcpy(room.data(), data.data() + at, n);
    framer.commit(n, out.onLine(), out.onTooLong());
    at += n;
  }
}

void feedAll(LineFramer& framer, std::string_view data, std::size_t chunk, Collector& out) {
  feed(
      framer, data, [chunk] { return chunk; }, out);
}

// What the framer must produce: split the whole text on '\n', drop one trailing '\r', report
// lines over max_line, skip blank ones. A last line without '\n' counts (it comes via finish()).
std::vector<std::string> reference(std::string_view text, std::size_t max_line) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > max_line) {
      out.push_back(kTooLong);
    } else if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
      out.emplace_back(line);
    }
  }
  return out;
}

std::string show(const std::vector<std::string>& items) {
  std::ostringstream s;
  for (const std::string& i : items) {
    if (i == kTooLong) {
      s << "  <too long>\n";
      continue;
    }
    s << "  [" << i.size() << " bytes" << (i.find('\r') != std::string::npos ? ", has \\r" : "")
      << "] " << i.substr(0, 60) << (i.size() > 60 ? "..." : "") << "\n";
  }
  return s.str();
}

// ---- the property: chunking never changes the lines ----

// Random JSON-ish text: short lines, lines within a few bytes of max_line, over-long ones, blank
// and whitespace-only lines, CRLF endings, stray '\r', and sometimes no final newline.
std::string randomText(std::mt19937_64& rng, std::size_t max_line, std::size_t lines) {
  static constexpr std::string_view kAlphabet = R"({}[]":,. 0123456789abcxyzTRUE-+e\)";
  std::uniform_int_distribution<int> kind(0, 99);
  std::uniform_int_distribution<std::size_t> letter(0, kAlphabet.size() - 1);
  std::string text;
  for (std::size_t l = 0; l < lines; ++l) {
    const int k = kind(rng);
    std::size_t size;
    if (k < 10) {
      size = 0;
    } else if (k < 60) {
      size =
          std::uniform_int_distribution<std::size_t>(1, std::min<std::size_t>(60, max_line))(rng);
    } else if (k < 85) {
      // Around the limit, where off-by-ones live.
      size = max_line - std::min<std::size_t>(max_line, 2) +
             std::uniform_int_distribution<std::size_t>(0, 4)(rng);
    } else {
      size = std::uniform_int_distribution<std::size_t>(max_line + 1, 3 * max_line + 5)(rng);
    }
    if (k >= 5 && k < 10) {
      text.append(std::uniform_int_distribution<std::size_t>(1, 3)(rng), k % 2 ? ' ' : '\t');
    }
    for (std::size_t i = 0; i < size; ++i) {
      const int odd = kind(rng);
      text += odd == 0 ? '\r' : odd == 1 ? '\t' : kAlphabet[letter(rng)];
    }
    if (kind(rng) < 30) text += '\r';
    if (l + 1 < lines || kind(rng) < 50) text += '\n';
  }
  return text;
}

struct PropertyCase {
  const char* name;
  std::size_t max_line;
  std::size_t lines;
  std::size_t max_chunk;
  int seeds;
};

void PrintTo(const PropertyCase& c, std::ostream* os) { *os << c.name; }

class LineFramerProperty : public ::testing::TestWithParam<PropertyCase> {};

TEST_P(LineFramerProperty, AnyChunkingGivesTheLinesOfTheWholeText) {
  const PropertyCase& c = GetParam();
  const int seeds = std::max(1, c.seeds / RIVULET_TEST_SLOWDOWN);
  for (int seed = 0; seed < seeds; ++seed) {
    std::mt19937_64 rng(0x11ae + static_cast<std::uint64_t>(seed) * 7919 + c.max_line);
    const std::string text = randomText(rng, c.max_line, c.lines);
    std::uniform_int_distribution<std::size_t> chunk(1, c.max_chunk);
    LineFramer framer(c.max_line);
    Collector out;
    feed(
        framer, text, [&] { return chunk(rng); }, out);
    framer.finish(out.onLine(), out.onTooLong());

    const std::vector<std::string> expected = reference(text, c.max_line);
    if (out.items() != expected) {
      const auto [e, g] =
          std::mismatch(expected.begin(), expected.end(), out.items().begin(), out.items().end());
      const std::size_t at = static_cast<std::size_t>(e - expected.begin());
      const std::size_t from = at >= 2 ? at - 2 : 0;
      FAIL() << "seed " << seed << ": first difference at item " << at << "\nexpected (from item "
             << from << "):\n"
             << show({expected.begin() + static_cast<std::ptrdiff_t>(from),
                      expected.begin() +
                          static_cast<std::ptrdiff_t>(std::min(expected.size(), at + 3))})
             << "got:\n"
             << show({out.items().begin() +
                          static_cast<std::ptrdiff_t>(std::min(from, out.items().size())),
                      out.items().begin() +
                          static_cast<std::ptrdiff_t>(std::min(out.items().size(), at + 3))});
    }
    ASSERT_EQ(out.capacityViolations(), 0) << "seed " << seed;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, LineFramerProperty,
    ::testing::Values(
        // Byte-at-a-time reads: every cut position there is.
        PropertyCase{"TinyLimitByteReads", 8, 60, 1, 300},
        PropertyCase{"SmallLimitSmallReads", 40, 200, 7, 300},
        PropertyCase{"SmallLimitLargeReads", 40, 200, 4096, 300},
        PropertyCase{"MidLimitMixedReads", 1000, 100, 1500, 100},
        // Lines longer than the initial 64 KiB buffer: growth and compaction under cuts.
        PropertyCase{"BigLimitBigReads", 100'000, 12, 70'000, 10},
        PropertyCase{"BigLimitSmallReads", 100'000, 6, 5'000, 4}),
    [](const ::testing::TestParamInfo<PropertyCase>& tested) { return tested.param.name; });

// ---- the same, case by case ----

TEST(LineFramer, EveryCutPositionOfAFixedText) {
  const std::string text =
      "{\"a\":1}\n{\"b\":\"two\"}\r\n\n   \n{\"c\":[3]}\r\n\t\r\n{\"d\":4}\n{\"e\":5}";
  const std::vector<std::string> expected = {"{\"a\":1}", "{\"b\":\"two\"}", "{\"c\":[3]}",
                                             "{\"d\":4}", "{\"e\":5}"};
  ASSERT_EQ(reference(text, 1000), expected);
  for (std::size_t chunk = 1; chunk <= text.size(); ++chunk) {
    LineFramer framer(1000);
    Collector out;
    feedAll(framer, text, chunk, out);
    framer.finish(out.onLine(), out.onTooLong());
    EXPECT_EQ(out.items(), expected) << "chunk " << chunk;
  }
}

TEST(LineFramer, CrlfIsStrippedAndBlankLinesSkipped) {
  LineFramer framer(100);
  Collector out;
  feedAll(framer, "a\r\n\r\n\n \t \nb\r\r\n  c  \n", 1000, out);
  // Only one '\r' belongs to the line ending; a second one is content.
  EXPECT_EQ(out.items(), (std::vector<std::string>{"a", "b\r", "  c  "}));
}

TEST(LineFramer, LastLineWithoutNewlineComesWithFinish) {
  LineFramer framer(100);
  Collector out;
  feedAll(framer, "first\nsec", 1000, out);
  feedAll(framer, "ond", 1000, out);
  EXPECT_EQ(out.items(), (std::vector<std::string>{"first"}));
  framer.finish(out.onLine(), out.onTooLong());
  EXPECT_EQ(out.items(), (std::vector<std::string>{"first", "second"}));
  framer.finish(out.onLine(), out.onTooLong());  // nothing left
  EXPECT_EQ(out.items().size(), 2u);
}

TEST(LineFramer, LastLineWithCrOnlyIsStrippedAtFinish) {
  LineFramer framer(100);
  Collector out;
  feedAll(framer, "x\r", 1, out);
  framer.finish(out.onLine(), out.onTooLong());
  EXPECT_EQ(out.items(), (std::vector<std::string>{"x"}));
}

TEST(LineFramer, FinishLeavesTheFramerReusable) {
  LineFramer framer(5);
  Collector out;
  feedAll(framer, "abc", 1, out);
  framer.finish(out.onLine(), out.onTooLong());
  feedAll(framer, "0123456789", 3, out);  // over-long, still open at finish
  framer.finish(out.onLine(), out.onTooLong());
  feedAll(framer, "def\n", 2, out);
  EXPECT_EQ(out.items(), (std::vector<std::string>{"abc", kTooLong, "def"}));
}

TEST(LineFramer, ExactlyMaxLineIsKeptOneMoreIsTooLong) {
  const std::string at_limit(50, 'a');
  const std::string over(51, 'b');
  for (std::size_t chunk : {1, 2, 7, 50, 51, 52, 1000}) {
    LineFramer framer(50);
    Collector out;
    feedAll(framer, at_limit + "\n" + over + "\n" + at_limit + "\r\n" + over + "\r\nend\n", chunk,
            out);
    EXPECT_EQ(out.items(),
              (std::vector<std::string>{at_limit, kTooLong, at_limit, kTooLong, "end"}))
        << "chunk " << chunk;
  }
}

// A line of exactly max_line bytes ending in CRLF is within the limit however it is cut, also
// when a read ends between its '\r' and its '\n'.
TEST(LineFramer, CrlfLineAtTheLimitCutBeforeItsNewline) {
  const std::string line(50, 'a');
  LineFramer framer(50);
  Collector out;
  feedAll(framer, line + "\r", 1000, out);
  feedAll(framer, "\nnext\n", 1000, out);
  EXPECT_EQ(out.items(), (std::vector<std::string>{line, "next"}));
}

TEST(LineFramer, OverLongLineIsReportedOnceAndTheNextLineKept) {
  LineFramer framer(100);
  Collector out;
  feedAll(framer, "ok1\n" + std::string(1000, 'x') + "\nok2\n", 100000, out);
  EXPECT_EQ(out.items(), (std::vector<std::string>{"ok1", kTooLong, "ok2"}));
}

TEST(LineFramer, OverLongLineInManySmallChunks) {
  for (std::size_t chunk : {1, 2, 3, 99, 100, 101}) {
    LineFramer framer(100);
    Collector out;
    feedAll(framer, "{\"ok\":1}\n" + std::string(10'000, 'x') + "\n{\"ok\":2}\n", chunk, out);
    EXPECT_EQ(out.items(), (std::vector<std::string>{"{\"ok\":1}", kTooLong, "{\"ok\":2}"}))
        << "chunk " << chunk;
  }
}

TEST(LineFramer, OverLongLineIsReportedBeforeItsNewlineArrives) {
  LineFramer framer(100);
  Collector out;
  feedAll(framer, std::string(101, 'x'), 101, out);
  EXPECT_EQ(out.items(), (std::vector<std::string>{kTooLong}));
  feedAll(framer, std::string(5000, 'y'), 7, out);  // more of the same line
  EXPECT_EQ(out.items(), (std::vector<std::string>{kTooLong}));
  feedAll(framer, "tail\nnext", 3, out);
  framer.finish(out.onLine(), out.onTooLong());
  EXPECT_EQ(out.items(), (std::vector<std::string>{kTooLong, "next"}));
}

TEST(LineFramer, ConsecutiveOverLongLinesAreEachReported) {
  LineFramer framer(10);
  Collector out;
  const std::string text = std::string(30, 'a') + "\n" + std::string(11, 'b') + "\r\n" +
                           std::string(500, 'c') + "\nok\n" + std::string(12, 'd');
  feedAll(framer, text, 4, out);
  framer.finish(out.onLine(), out.onTooLong());
  EXPECT_EQ(out.items(), (std::vector<std::string>{kTooLong, kTooLong, kTooLong, "ok", kTooLong}));
}

TEST(LineFramer, OverLongLastLineInOneReadIsReportedOnceAtFinish) {
  LineFramer framer(10);
  Collector out;
  feedAll(framer, "ok\n" + std::string(10, 'z') + "z", 1000, out);  // 11 bytes, no newline
  framer.finish(out.onLine(), out.onTooLong());
  framer.finish(out.onLine(), out.onTooLong());
  EXPECT_EQ(out.items(), (std::vector<std::string>{"ok", kTooLong}));
}

// Discarding an over-long line must not buffer it: the room offered stays that of the initial
// buffer however long the line is.
TEST(LineFramer, DiscardedLineIsNotBuffered) {
  LineFramer framer(1000);
  Collector out;
  const std::size_t initial_room = framer.writable().size();
  const std::string block(4096, 'x');
  for (int i = 0; i < 4096; ++i) {  // 16 MiB of one line
    feedAll(framer, block, block.size(), out);
    ASSERT_LE(framer.writable().size(), initial_room) << "after " << i + 1 << " blocks";
  }
  feedAll(framer, "\nafter\n", 1, out);
  EXPECT_EQ(out.items(), (std::vector<std::string>{kTooLong, "after"}));
}

// Long lines within the limit: the buffer grows, partial lines move to its front, and every
// byte arrives intact.
TEST(LineFramer, LongLinesWithinTheLimitArriveWhole) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> letter('a', 'z');
  std::vector<std::string> lines;
  std::string text;
  for (std::size_t size : {200'000, 70'000, 3, 1 << 20, 65'535, 65'536, 65'472}) {
    std::string l(size, ' ');
    for (char& ch : l) ch = static_cast<char>(letter(rng));
    lines.push_back(l);
    text += l + "\n";
  }
  for (std::size_t chunk : {4096, 65'536, 1 << 21}) {
    LineFramer framer(1 << 20);
    Collector out;
    feedAll(framer, text, chunk, out);
    ASSERT_EQ(out.items().size(), lines.size()) << "chunk " << chunk;
    for (std::size_t i = 0; i < lines.size(); ++i)
      EXPECT_TRUE(out.items()[i] == lines[i]) << "chunk " << chunk << " line " << i;
    EXPECT_EQ(out.capacityViolations(), 0);
  }
}

// A line that ends exactly where the writable room ends still has its padding.
TEST(LineFramer, LineFillingTheWholeRoomKeepsItsPadding) {
  LineFramer framer(1 << 20);
  Collector out;
  const std::span<char> room = framer.writable();
  std::memset(room.data(), 'q', room.size());
  room[room.size() - 1] = '\n';
  framer.commit(room.size(), out.onLine(), out.onTooLong());
  ASSERT_EQ(out.items().size(), 1u);
  EXPECT_EQ(out.items()[0], std::string(room.size() - 1, 'q'));
  EXPECT_EQ(out.capacityViolations(), 0);

  // And again for a line whose last byte is the last byte of the room, ended by finish().
  const std::span<char> room2 = framer.writable();
  std::memset(room2.data(), 'r', room2.size());
  framer.commit(room2.size(), out.onLine(), out.onTooLong());
  framer.finish(out.onLine(), out.onTooLong());
  ASSERT_EQ(out.items().size(), 2u);
  EXPECT_EQ(out.items()[1], std::string(room2.size(), 'r'));
  EXPECT_EQ(out.capacityViolations(), 0);
}

}  // namespace
}  // namespace rivulet::connectors
