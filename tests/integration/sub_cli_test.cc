// rivulet-sub against the real daemon over tcp:// and ipc://: HOST:PORT endpoints, end-of-window
// markers and late events hidden unless asked for (--markers, --late, or a prefix naming them),
// --format table, --timeout and its exit codes, the note when nothing arrives, --version, --help
// and usage errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kSub = RIVULET_BINARY_DIR "/daemon/rivulet-sub";

// Events before this time warm the subscriptions up; the checked events come after it.
constexpr std::int64_t kT = 1'000'000;  // ms: 1970-01-01T00:16:40Z

std::string configYaml() {
  return daemonYaml({.publish = "tcp://127.0.0.1:0", .stages = 1}) +
         "sources:\n"
         "  in:\n"
         "    kind: tcp\n"
         "    listen: 127.0.0.1:0\n"
         "    time: {field: ts, unit: ms}\n"
         "pipelines:\n"
         "  counts:\n"
         "    from: in\n"
         "    group_by: [k]\n"
         "    window: {tumbling: 1s}\n"
         "    late: {topic: true}\n"
         "    aggregates: {n: count(), v: sum(v)}\n"
         "  other:\n"
         "    from: in\n"
         "    window: {tumbling: 1s}\n"
         "    late: {topic: true}\n"
         "    aggregates: {n: count()}\n";
}

std::string event(std::int64_t ts, const std::string& k, int v) {
  return "{\"ts\":" + std::to_string(ts) + ",\"k\":\"" + k + "\",\"v\":" + std::to_string(v) +
         "}\n";
}

// A rivulet-sub child with its stdout and stderr in files of the test's directory.
class Sub {
 public:
  Sub(const TempDir& dir, const std::string& name, std::vector<std::string> args)
      : out_(dir.file(name + ".out")), err_(dir.file(name + ".err")) {
    args.insert(args.begin(), kSub);
    process_.emplace(args, out_, err_);
  }
  std::string out() const { return readFile(out_); }
  std::string err() const { return readFile(err_); }
  std::vector<std::string> lines() const { return splitLines(out()); }
  bool printed(const std::string& text) const { return out().find(text) != std::string::npos; }
  ChildProcess& process() { return *process_; }

 private:
  std::string out_;
  std::string err_;
  std::optional<ChildProcess> process_;
};

// Sends events of key "warm", each closing the window of the one before, until every sub has
// printed `marks[i]`: from then on each one's subscriptions are in place. ZeroMQ counts a
// subscriber once its connection is accepted, before its subscriptions arrive, so the metric
// alone would race.
::testing::AssertionResult warmUp(TcpClient& client, const std::vector<Sub*>& subs,
                                  const std::vector<std::string>& marks) {
  for (int i = 1; i <= 60; ++i) {
    if (!client.send(event(i * 1000, "warm", 0))) {
      return ::testing::AssertionFailure() << "cannot send to the source";
    }
    const bool all = waitUntil(
        [&] {
          for (std::size_t s = 0; s < subs.size(); ++s) {
            if (!subs[s]->printed(marks[s])) return false;
          }
          return true;
        },
        500ms);
    if (all) return ::testing::AssertionSuccess();
    if (i * 1000 >= kT - 2000) break;
  }
  return ::testing::AssertionFailure() << "the subscribers printed no warm-up result";
}

// A table row as rivulet-sub pads it once it has printed the header and a warm-up result: window
// 42, pipeline 8 ("PIPELINE"), kind 5 ("final"), key 6 ("k=warm"), none of which the checked
// rows exceed.
std::string tableRow(const std::string& window, const std::string& pipeline,
                     const std::string& kind, const std::string& key, const std::string& values) {
  const auto pad = [](std::string s, std::size_t width) {
    s.resize(std::max(width, s.size()), ' ');
    return s + "  ";
  };
  return pad(window, 42) + pad(pipeline, 8) + pad(kind, 5) + pad(key, 6) + values;
}

// The part of a result's JSON after its seq.
std::string resultTail(std::int64_t start, const std::string& key, const std::string& values) {
  return ",\"kind\":\"final\",\"start\":" + std::to_string(start) +
         ",\"end\":" + std::to_string(start + 1000) + ",\"key\":{" + key + "},\"values\":{" +
         values + "}}";
}

std::string marker(const std::string& pipeline, std::int64_t start, int results) {
  return "{\"pipeline\":\"" + pipeline + "\",\"start\":" + std::to_string(start) +
         ",\"end\":" + std::to_string(start + 1000) + ",\"results\":" + std::to_string(results) +
         "}";
}

// Lines of `lines` that belong to the checked part (not the warm-up).
std::vector<std::string> checkedPart(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const std::string& line : lines) {
    if (line.find("warm") != std::string::npos) continue;
    if (line.find("\"start\":" + std::to_string(kT)) == std::string::npos &&
        line.find("\"start\":" + std::to_string(kT + 1000)) == std::string::npos &&
        line.find("\"start\":" + std::to_string(kT + 2000)) == std::string::npos &&
        line.find("\"ts\":") == std::string::npos) {
      continue;  // a marker of a warm-up window, without "warm" in it
    }
    out.push_back(line);
  }
  return out;
}

TEST(SubCli, HidesMarkersAndLateEventsUnlessAskedAndPrintsTables) {
  TempDir dir;
  Daemon daemon(dir, configYaml());
  ASSERT_TRUE(daemon.waitReady());
  const std::string endpoint = daemon.publishEndpoint("tcp://");
  ASSERT_THAT(endpoint, StartsWith("tcp://127.0.0.1:"));
  const std::string host_port = endpoint.substr(6);

  Sub plain(dir, "plain", {host_port});  // HOST:PORT, everything, no flags
  Sub asked(dir, "asked", {"--topic", "--markers", "--late", endpoint, "counts/"});
  Sub markers(dir, "markers", {"--markers", "--topic", endpoint});
  Sub table(dir, "table", {"--format", "table", "--markers", "--late", endpoint, "counts/"});
  TcpClient client(daemon.sourcePort("in"));
  ASSERT_TRUE(warmUp(client, {&plain, &asked, &markers, &table},
                     {"\"k\":\"warm\"", "\"k\":\"warm\"", "\"k\":\"warm\"", "k=warm"}));

  // Window T: a and b; an event at T + 1500 closes it.
  ASSERT_TRUE(
      client.send(event(kT + 100, "a", 1) + event(kT + 200, "b", 2) + event(kT + 1500, "a", 3)));
  ASSERT_TRUE(waitUntil([&] { return asked.printed(marker("counts", kT, 2)); }, 30s))
      << asked.out();
  // Late for window T, which has closed: republished raw on _late/counts/ and _late/other/.
  const std::string late = event(kT + 300, "a", 9);
  ASSERT_TRUE(client.send(late));
  ASSERT_TRUE(waitUntil([&] { return asked.printed(late); }, 30s)) << asked.out();
  // Closes window T + 1000, then window T + 2000 (the last checked one) with the sentinel c.
  ASSERT_TRUE(client.send(event(kT + 2500, "c", 4)));
  ASSERT_TRUE(client.send(event(kT + 3500, "z", 0)));
  const std::string sentinel = "\"key\":{\"k\":\"c\"}";
  ASSERT_TRUE(waitUntil(
      [&] {
        return plain.printed(sentinel) && asked.printed(sentinel) && markers.printed(sentinel) &&
               table.printed("k=c");
      },
      30s))
      << plain.out() << asked.out() << markers.out() << table.out();
  // Each sub has received everything published before the sentinel (ZeroMQ keeps the order).
  for (Sub* sub : {&plain, &asked, &markers, &table}) {
    ASSERT_TRUE(sub->process().signal(SIGTERM));
    EXPECT_EQ(sub->process().wait(20s), 0) << sub->err();
    EXPECT_EQ(sub->err(), "");
  }
  const std::string late_json = late.substr(0, late.size() - 1);

  // Results only, and every one of them.
  {
    const std::vector<std::string> lines = checkedPart(plain.lines());
    std::vector<Message> messages;
    for (const std::string& line : lines) messages.push_back(Message{"", line, false});
    std::set<std::string> seen;
    for (const Result& r : parseResults(messages)) {
      seen.insert(r.pipeline + " " + std::to_string(r.start - kT) + " " +
                  (r.key.empty() ? "" : r.key[0].second) +
                  " n=" + std::to_string(r.values.at("n").integer));
    }
    EXPECT_EQ(seen, (std::set<std::string>{"counts 0 a n=1", "counts 0 b n=1", "counts 1000 a n=1",
                                           "counts 2000 c n=1", "other 0  n=2", "other 1000  n=1",
                                           "other 2000  n=1"}));
    EXPECT_EQ(lines.size(), seen.size()) << plain.out();
    for (const std::string& line : plain.lines()) {
      EXPECT_THAT(line, StartsWith("{\"pipeline\":")) << "not a result";
      EXPECT_THAT(line, HasSubstr("\"seq\":"));
    }
  }
  // counts/ with its markers and late events, nothing of other.
  {
    const std::vector<std::string> lines = checkedPart(asked.lines());
    EXPECT_THAT(lines, Contains("_window/counts/ " + marker("counts", kT, 2)));
    EXPECT_THAT(lines, Contains("_window/counts/ " + marker("counts", kT + 1000, 1)));
    EXPECT_THAT(lines, Contains("_late/counts/ " + late_json));
    for (const char* key : {"a", "b"}) {
      EXPECT_THAT(asked.out(),
                  HasSubstr(resultTail(kT, std::string("\"k\":\"") + key + "\"",
                                       std::string("\"n\":1,\"v\":") + (*key == 'a' ? "1" : "2"))));
    }
    for (const std::string& line : asked.lines()) {
      EXPECT_THAT(line, Not(HasSubstr("other"))) << "a topic not subscribed to";
      EXPECT_TRUE(line.rfind("counts/", 0) == 0 || line.rfind("_window/counts/ ", 0) == 0 ||
                  line.rfind("_late/counts/ ", 0) == 0)
          << line;
    }
  }
  // Everything with markers: both pipelines' markers, no late events.
  {
    const std::vector<std::string> lines = checkedPart(markers.lines());
    EXPECT_THAT(lines, Contains("_window/counts/ " + marker("counts", kT, 2)));
    EXPECT_THAT(lines, Contains("_window/other/ " + marker("other", kT, 1)));
    EXPECT_THAT(lines, Contains("_window/other/ " + marker("other", kT + 1000, 1)));
    for (const std::string& line : markers.lines()) {
      EXPECT_THAT(line, Not(StartsWith("_late/")));
    }
  }
  // The table: a header, then the rows aligned under it.
  {
    const std::vector<std::string> lines = table.lines();
    ASSERT_FALSE(lines.empty());
    // The header is padded like the first row, which may have been a marker (narrower).
    EXPECT_THAT(lines[0], ::testing::MatchesRegex("WINDOW \\(UTC\\) +PIPELINE +KIND +KEY +VALUES"));
    const std::string t0 = "1970-01-01T00:16:40Z..1970-01-01T00:16:41Z";
    const std::string t1 = "1970-01-01T00:16:41Z..1970-01-01T00:16:42Z";
    const std::string t2 = "1970-01-01T00:16:42Z..1970-01-01T00:16:43Z";
    for (const std::string& row : {tableRow(t0, "counts", "final", "k=a", "n=1 v=1"),
                                   tableRow(t0, "counts", "final", "k=b", "n=1 v=2"),
                                   tableRow(t0, "counts", "end", "-", "results=2"),
                                   tableRow("-", "counts", "late", "-", late_json),
                                   tableRow(t1, "counts", "final", "k=a", "n=1 v=3"),
                                   tableRow(t1, "counts", "end", "-", "results=1"),
                                   tableRow(t2, "counts", "final", "k=c", "n=1 v=4")}) {
      EXPECT_THAT(lines, Contains(row)) << table.out();
    }
    EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                            [](const std::string& l) { return l.rfind("WINDOW", 0) == 0; }),
              1);
    for (const std::string& line : lines) EXPECT_THAT(line, Not(HasSubstr("other")));
  }

  // --timeout: once something was printed and then nothing for the timeout, exit 0. Warmed up
  // like the others; the warm-up's windows are past, so these are windows after the sentinel's.
  Sub quiet(dir, "quiet", {"--timeout", "5s", endpoint, "counts/"});
  Sub none(dir, "none", {"--timeout", "3s", endpoint, "nothing/"});
  bool printed = false;
  for (int i = 0; i < 40 && !printed; ++i) {
    ASSERT_TRUE(client.send(event(kT + 4500 + i * 1000, "q", 0)));
    printed = waitUntil([&] { return quiet.printed("\"k\":\"q\""); }, 500ms);
  }
  ASSERT_TRUE(printed) << quiet.err();
  EXPECT_EQ(quiet.process().wait(60s), 0) << quiet.err();
  EXPECT_EQ(quiet.err(), "");
  for (const std::string& line : quiet.lines()) EXPECT_THAT(line, HasSubstr("\"counts\""));
  // Nothing ever printed: exit 3, after the note that it waits.
  EXPECT_EQ(none.process().wait(60s), 3);
  EXPECT_EQ(none.out(), "");
  const std::vector<std::string> err = splitLines(none.err());
  ASSERT_EQ(err.size(), 2u) << none.err();
  EXPECT_EQ(err[0], "rivulet-sub: still waiting: nothing received from " + endpoint +
                        " in 2 s (subscribed to \"nothing/\"); is rivuletd publishing there?");
  EXPECT_EQ(err[1], "rivulet-sub: nothing received from " + endpoint +
                        " in 3s (subscribed to \"nothing/\"); is rivuletd publishing there?");
}

TEST(SubCli, WithNothingPublishedItSaysSoOnceAndTimesOutWithThree) {
  TempDir dir;
  const std::string endpoint = "ipc://" + dir.file("nobody.ipc");
  const CommandResult r =
      runCommand(dir, {kSub, "--timeout", "3s", "--markers", "--late", endpoint, "p/x/"});
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 3);
  EXPECT_EQ(r.out, "");
  const std::string subscribed = "(subscribed to \"p/x/\", \"_window/p/\", \"_late/p/\")";
  EXPECT_EQ(r.err, "rivulet-sub: still waiting: nothing received from " + endpoint + " in 2 s " +
                       subscribed + "; is rivuletd publishing there?\n" +
                       "rivulet-sub: nothing received from " + endpoint + " in 3s " + subscribed +
                       "; is rivuletd publishing there?\n");

  // A timeout before the note is due ends it first; everything: said so.
  const CommandResult quick = runCommand(dir, {kSub, "--timeout=500ms", endpoint});
  EXPECT_EQ(quick.exit_code, 3);
  EXPECT_EQ(quick.err, "rivulet-sub: nothing received from " + endpoint +
                           " in 500ms (subscribed to everything); is rivuletd publishing there?\n");
}

TEST(SubCli, VersionIsTheDaemonsAndHelpListsTheOptions) {
  TempDir dir;
  const CommandResult daemon = runCommand(dir, {kDaemonPath, "--version"});
  ASSERT_EQ(daemon.exit_code, 0);
  ASSERT_THAT(daemon.out, StartsWith("rivuletd "));
  for (const char* flag : {"--version", "-V"}) {
    const CommandResult r = runCommand(dir, {kSub, flag});
    EXPECT_EQ(r.exit_code, 0) << flag;
    EXPECT_EQ(r.out, "rivulet-sub " + daemon.out.substr(9)) << flag;
    EXPECT_EQ(r.err, "");
  }
  for (const char* flag : {"--help", "-h"}) {
    const CommandResult r = runCommand(dir, {kSub, flag});
    EXPECT_EQ(r.exit_code, 0) << flag;
    EXPECT_THAT(r.out, StartsWith("usage: rivulet-sub"));
    for (const char* text : {"--format json|table", "--markers", "--late", "--timeout DURATION",
                             "--count N", "--topic", "--version", "HOST:PORT", "Exit codes"}) {
      EXPECT_THAT(r.out, HasSubstr(text)) << flag;
    }
  }
}

TEST(SubCli, UsageErrorsExitTwo) {
  TempDir dir;
  const std::string endpoint = "ipc://" + dir.file("nobody.ipc");
  const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
      {{}, "no ENDPOINT"},
      {{"--format", "xml", endpoint}, "\"xml\" is not json or table"},
      {{"--timeout", "soon", endpoint}, "\"soon\" is not a positive duration"},
      {{"--timeout", "0s", endpoint}, "\"0s\" is not a positive duration"},
      {{endpoint, "--timeout"}, "--timeout needs a value"},
      {{"--count", "0", endpoint}, "\"0\" is not a positive integer"},
      {{"--count", "3x", endpoint}, "\"3x\" is not a positive integer"},
      {{"--bogus", endpoint}, "unknown option --bogus"},
      {{"localhost"}, "\"localhost\" is not an endpoint"},
      {{"127.0.0.1:"}, "\"127.0.0.1:\" is not an endpoint"},
      {{"--curve-key", dir.file("k.secret"), endpoint}, "go together"},
  };
  for (const auto& [args, message] : bad) {
    std::vector<std::string> argv{kSub};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = runCommand(dir, argv);
    EXPECT_EQ(r.exit_code, 2) << message;
    EXPECT_THAT(r.err, StartsWith("rivulet-sub: ")) << message;
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_THAT(r.err, HasSubstr("usage: rivulet-sub"));
    EXPECT_EQ(r.out, "");
  }
}

TEST(SubCli, CountCountsWhatIsPrintedNotWhatIsHidden) {
  TempDir dir;
  Daemon daemon(dir, "daemon:\n  metrics: 127.0.0.1:0\n  publish: ipc://" + dir.file("r.ipc") +
                         "\n  stages: 1\nsources:\n  gen:\n    kind: generator\n    keys: 2\n"
                         "    events_per_second: 1000\n    throttle: 20000\n"
                         "pipelines:\n  p:\n    from: gen\n    group_by: [key]\n"
                         "    window: {tumbling: 100ms}\n    aggregates: {n: count()}\n");
  ASSERT_TRUE(daemon.waitReady());
  const std::string endpoint = daemon.publishEndpoint("ipc://");
  // Two keys: two results, then a marker, per window. Ten printed results span several windows
  // and their markers, none of which may be printed or counted.
  const CommandResult r = runCommand(dir, {kSub, "--count", "10", endpoint}, 60s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = splitLines(r.out);
  ASSERT_EQ(lines.size(), 10u) << r.out;
  for (const std::string& line : lines) EXPECT_THAT(line, HasSubstr("\"seq\":"));
  // With --markers they are printed, and counted.
  const CommandResult m = runCommand(dir, {kSub, "--count", "40", "--markers", endpoint}, 60s);
  ASSERT_EQ(m.exit_code, 0) << m.err;
  const std::vector<std::string> with_markers = splitLines(m.out);
  ASSERT_EQ(with_markers.size(), 40u);
  const auto markers = std::count_if(with_markers.begin(), with_markers.end(), [](const auto& l) {
    return l.find("\"results\":") != std::string::npos;
  });
  EXPECT_GT(markers, 0) << m.out;
  EXPECT_LT(markers, 40) << m.out;
}

}  // namespace
}  // namespace rivulet::testutil
