// CSV files through the real daemon: one whose header names the columns (read through a FIFO,
// so that the per-reason counters can be scraped before the input ends), one whose columns the
// config names and whose header is skipped. Rows have quoted fields with commas, doubled quotes
// and blanks, CRLF endings, blank lines, malformed rows of every reason, and no line break at the
// very end. Both inputs are bounded: the daemon publishes every window as final to its output
// file and exits 0, and every result is checked against a brute-force reference.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/harness/feed.h"

namespace rivulet::itest {
namespace {

constexpr int kSeconds = 4;
constexpr int kPerSecond = 300;

std::string configYaml(const TempDir& dir, const std::string& fifo, const std::string& file) {
  return "daemon:\n"
         "  metrics: 127.0.0.1:0\n"
         "  publish: ipc://" +
         dir.file("r.ipc") +
         "\n"
         "  output: " +
         dir.file("out.jsonl") +
         "\n"
         "  stages: 2\n"
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
  const std::string fifo = dir.file("headed.fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  // Held read-write, so that the daemon's open does not block and the input ends when we close
  // it; non-blocking on our side, so that a writer stuck on a dead reader gives up at its deadline.
  int fd = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  struct Closer {
    int& fd;
    ~Closer() {
      if (fd >= 0) ::close(fd);
    }
  } closer{fd};

  CsvInput headed{TradeFeed("headed_trades", 41), {"sym", "px", "ts"}};
  makeInput(headed, "\"sym\", px ,ts");
  CsvInput named{TradeFeed("named_trades", 42), {"ts", "sym", "px"}};
  makeInput(named, "time,symbol,\"price, in $\"");  // skipped: the config names the columns
  writeFile(dir.file("named.csv"), named.text);

  Daemon daemon(dir, configYaml(dir, fifo, dir.file("named.csv")));
  ASSERT_TRUE(daemon.waitReady());
  // The FIFO holds 64 KiB and the input is more: write it from a thread while the daemon reads.
  std::atomic<bool> written{false};
  std::thread writer([&] {
    std::string_view rest = headed.text;
    const auto deadline = Clock::now() + 30s;
    while (!rest.empty() && Clock::now() < deadline) {
      const ssize_t n = ::write(fd, rest.data(), rest.size());
      if (n > 0) {
        rest.remove_prefix(static_cast<std::size_t>(n));
      } else if (n < 0 && errno == EAGAIN) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, 20);
      } else if (n < 0 && errno != EINTR) {
        return;
      }
    }
    written = rest.empty();
  });
  // All but the last row, which has no line break: it ends only with the input.
  Metrics metrics;
  const auto counted = waitCounted(daemon, "headed", headed.rows - 1, &metrics);
  writer.join();
  ASSERT_TRUE(written) << "could not write the whole input into the FIFO";
  ASSERT_TRUE(counted);
  expectSourceCounters(metrics, "headed", headed.feed.accepted() - 1, headed.errors);
  // The other file is read to its end by now: every one of its rows is counted.
  ASSERT_TRUE(waitCounted(daemon, "named", named.rows, &metrics));
  expectSourceCounters(metrics, "named", named.feed.accepted(), named.errors);

  ::close(fd);
  fd = -1;
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
}  // namespace rivulet::itest
