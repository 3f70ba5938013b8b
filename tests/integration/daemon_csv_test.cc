// CSV files through the real daemon: one whose header names the columns (read through a FIFO,
// so that the per-reason counters can be scraped before the input ends), one whose columns the
// config names and whose header is skipped. Rows have quoted fields with commas, doubled quotes
// and blanks, CRLF endings, blank lines, malformed rows of every reason, and no line break at the
// very end. Both inputs are bounded: the daemon publishes every window as final to its output
// file and exits 0, and every result is checked against a brute-force reference.
#include <gtest/gtest.h>

#include "tests/integration/harness.h"
#include "tests/integration/harness/feed.h"
#include "tests/integration/harness/fifo.h"

namespace rivulet::testutil {
namespace {

constexpr int kSeconds = 4;
constexpr int kPerSecond = 300;

std::string configYaml(const TempDir& dir, const std::string& fifo, const std::string& file) {
  return daemonYaml(dir, {.output = dir.file("out.jsonl")}) +
         "sources:\n"
         "  headed:\n"
         "    kind: file\n"
         "    path: " +
         fifo +
         "\n"
         "    format: csv\n"
         "    header: true\n"
         "    time: {field: ts, unit: ms}\n"
         "  named:\n"
         "    kind: file\n"
         "    path: " +
         file +
         "\n"
         "    format: csv\n"
         "    columns: [ts, sym, px]\n"
         "    header: true\n"
         "    time: {field: ts, unit: ms}\n"
         "pipelines:\n" +
         tradePipeline("headed_trades", "headed") + tradePipeline("named_trades", "named");
}

// One input file: its text, the rows its source must count, the errors by reason.
struct CsvInput {
  TradeFeed feed;
  std::vector<std::string> columns;
  std::string text{};
  std::int64_t rows = 0;
  std::map<std::string, std::int64_t> errors{};
};

void makeInput(CsvInput& in, const std::string& header) {
  in.text = header + "\r\n\r\n";
  for (int second = 0; second < kSeconds; ++second) {
    std::vector<std::string> rows;
    int i = 0;
    for (const Trade& t : in.feed.second(second, kPerSecond)) {
      rows.push_back(toCsv(t, in.columns, i++ % 5 == 0));
    }
    for (const auto& [reason, row] : malformedCsv(kFeedBase + second * 1000 + 500, in.columns)) {
      rows.push_back(row);
      ++in.errors[reason];
    }
    std::shuffle(rows.begin(), rows.end(), in.feed.rng());
    for (std::size_t r = 0; r < rows.size(); ++r) {
      in.text += rows[r] + (r % 7 == 3 ? "\r\n" : "\n");
      if (r % 50 == 0) in.text += "\n";  // a blank line is no row
    }
    in.rows += static_cast<std::int64_t>(rows.size());
  }
  // The last row has no line break: it is still a row.
  const Trade last{kFeedBase + kSeconds * 1000 + 1, "LAST", 3.0, "3.0"};
  in.feed.add(last);
  in.text += toCsv(last, in.columns);
  ++in.rows;
}

TEST(DaemonCsv, HeaderedAndNamedFilesMatchTheReferenceWithEveryRowCounted) {
  TempDir dir;
  Fifo fifo(dir.file("headed.fifo"));
  CsvInput headed{TradeFeed("headed_trades", 41), {"sym", "px", "ts"}};
  makeInput(headed, "\"sym\", px ,ts");
  CsvInput named{TradeFeed("named_trades", 42), {"ts", "sym", "px"}};
  makeInput(named, "time,symbol,\"price, in $\"");  // skipped: the config names the columns
  writeFile(dir.file("named.csv"), named.text);

  Daemon daemon(dir, configYaml(dir, fifo.path(), dir.file("named.csv")));
  ASSERT_TRUE(daemon.waitReady());
  fifo.startWriting(headed.text);
  // All but the last row, which has no line break: it ends only with the input.
  Metrics metrics;
  const auto counted = waitCounted(daemon, "headed", headed.rows - 1, &metrics);
  ASSERT_TRUE(fifo.finishWriting()) << "could not write the whole input into the FIFO";
  ASSERT_TRUE(counted);
  expectSourceCounters(metrics, "headed", headed.feed.accepted() - 1, headed.errors);
  // The other file is read to its end by now: every one of its rows is counted.
  ASSERT_TRUE(waitCounted(daemon, "named", named.rows, &metrics));
  expectSourceCounters(metrics, "named", named.feed.accepted(), named.errors);

  fifo.close();
  const auto exit_code = daemon.process().wait(30s);
  ASSERT_TRUE(exit_code.has_value()) << "the end of the inputs did not end the daemon";
  EXPECT_EQ(*exit_code, 0) << daemon.log();
  const std::vector<Result> results =
      parseResults(messagesFromJsonLines(readFile(dir.file("out.jsonl"))));
  headed.feed.expectFinalsMatch(results, /*all=*/true);
  named.feed.expectFinalsMatch(results, /*all=*/true);
  expectSeqWithoutGaps(results);
  for (const Result& r : results) EXPECT_EQ(r.kind, "final") << r.payload;
}

}  // namespace
}  // namespace rivulet::testutil
