// Lateness is judged per event (DESIGN §8): an event is late for a window when the window's end
// plus its lateness is at or below max(event time seen on the source so far) - delay at its
// arrival. One random disordered stream with late events goes to the real daemon read whole from
// a file, sent over tcp in several random chunkings (each chunk read before the next is sent, so
// the read batches differ from run to run) and sent over udp in random bursts; every run must give
// the same results and late counts, and the tumbling and hopping pipelines must equal a brute-force
// reference that judges each event against the watermark at its arrival.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/harness/feed.h"

namespace rivulet::testutil {
namespace {

constexpr std::int64_t kBase = 1'700'000'000'000;  // ms
constexpr std::int64_t kDelay = 500;               // ms, the source's watermark delay
constexpr int kEvents = 2500;

struct Event {
  std::int64_t ts;  // ms
  std::string key;
  int v;
};

std::string toJson(const Event& e) {
  return R"({"ts":)" + std::to_string(e.ts) + R"(,"key":")" + e.key + R"(","v":)" +
         std::to_string(e.v) + "}";
}

// A stream whose clock moves 0-20 ms per event; most events are stamped up to 300 ms behind it,
// some far enough behind to be late for some or all of their windows. A last event far ahead
// closes every window of the others, so that a run stopped by a signal publishes them final too.
std::vector<Event> randomStream(std::mt19937_64& rng) {
  std::vector<Event> events;
  std::int64_t clock = kBase;
  for (int i = 0; i < kEvents; ++i) {
    clock += static_cast<std::int64_t>(rng() % 21);
    const int kind = static_cast<int>(rng() % 100);
    const std::int64_t behind = kind < 80   ? static_cast<std::int64_t>(rng() % 300)
                                : kind < 95 ? 300 + static_cast<std::int64_t>(rng() % 900)
                                            : 1200 + static_cast<std::int64_t>(rng() % 2800);
    events.push_back(
        Event{clock - behind, "k" + std::to_string(rng() % 4), 1 + static_cast<int>(rng() % 100)});
  }
  events.push_back(Event{clock + 60'000, "end", 0});
  return events;
}

// The pipelines: the reference knows the first three; the others are compared run to run.
struct Windowed {
  std::string name;
  std::int64_t size, slide, lateness;  // ms
};
const std::vector<Windowed> kWindowed = {
    {"tumble", 1000, 1000, 0}, {"hop", 2000, 500, 0}, {"lenient", 1000, 1000, 700}};

std::string pipelinesYaml() {
  std::string yaml = "pipelines:\n";
  for (const Windowed& w : kWindowed) {
    yaml += "  " + w.name + ":\n    from: in\n    group_by: [key]\n";
    yaml += w.size == w.slide ? "    window: {tumbling: " + std::to_string(w.size) + "ms}\n"
                              : "    window: {hopping: {size: " + std::to_string(w.size) +
                                    "ms, slide: " + std::to_string(w.slide) + "ms}}\n";
    yaml += "    allowed_lateness: " + std::to_string(w.lateness) + "ms\n";
    yaml += "    aggregates: {n: count(), total: sum(v)}\n";
  }
  yaml +=
      "  updates:\n    from: in\n    group_by: [key]\n    window: {tumbling: 1s}\n"
      "    allowed_lateness: 1s\n    emit: updates\n    aggregates: {n: count(), total: sum(v)}\n"
      "  sessions:\n    from: in\n    group_by: [key]\n    window: {session: {gap: 400ms}}\n"
      "    aggregates: {n: count(), total: sum(v)}\n";
  return yaml;
}

std::string configYaml(const TempDir& dir, const std::string& source) {
  return "daemon:\n  metrics: 127.0.0.1:0\n  publish: ipc://" + dir.file("r.ipc") +
         "\n  output: " + dir.file("out.jsonl") + "\n  stages: 2\nsources:\n  in:\n" + source +
         "    time: {field: ts, unit: ms}\n    watermark: {delay: " + std::to_string(kDelay) +
         "ms}\n" + pipelinesYaml();
}

// What a run produced: every result but those of the closing event's key, as comparable text
// (order across keys and stages is not part of the contract), and each pipeline's late count.
struct Outcome {
  std::vector<std::string> results;
  std::map<std::string, double> late;
};

std::string describe(const Result& r) {
  std::string text = r.pipeline + " " + r.kind + " [" + std::to_string(r.start) + "," +
                     std::to_string(r.end) + ")";
  for (const auto& [field, value] : r.key) text += " " + field + "=" + value;
  for (const auto& [name, value] : r.values)
    text += " " + name + "=" + std::to_string(value.number);
  return text;
}

// The outcome of a daemon that has exited: its output file and its final counts.
Outcome outcomeOf(const TempDir& dir, const Daemon& daemon) {
  Outcome out;
  for (const Result& r : parseResults(messagesFromJsonLines(readFile(dir.file("out.jsonl"))))) {
    const bool closing = std::any_of(r.key.begin(), r.key.end(),
                                     [](const auto& part) { return part.second == "end"; });
    if (!closing) out.results.push_back(describe(r));
  }
  std::sort(out.results.begin(), out.results.end());
  const std::string prefix = "final count: rivulet_pipeline_late_events_total{pipeline=\"";
  for (const std::string& line : splitLines(daemon.log())) {
    const std::size_t at = line.find(prefix);
    if (at == std::string::npos) continue;
    const std::size_t name = at + prefix.size();
    const std::size_t close = line.find('"', name);
    out.late[line.substr(name, close - name)] = std::stod(line.substr(line.rfind(' ') + 1));
  }
  return out;
}

// The brute-force reference of the tumbling and hopping pipelines: each event judged against
// max(event time so far) - delay, added to each of its windows that is not late.
Outcome reference(const std::vector<Event>& events) {
  Outcome out;
  for (const Windowed& w : kWindowed) {
    std::map<std::tuple<std::int64_t, std::string>, std::pair<std::int64_t, std::int64_t>> windows;
    double late = 0;
    std::int64_t max_time = std::numeric_limits<std::int64_t>::min();
    for (const Event& e : events) {
      const std::int64_t watermark =
          max_time == std::numeric_limits<std::int64_t>::min() ? max_time : max_time - kDelay;
      bool added = false;
      for (std::int64_t start = floorDiv(e.ts, w.slide) * w.slide; start > e.ts - w.size;
           start -= w.slide) {
        if (start + w.size + w.lateness <= watermark) continue;
        auto& [n, total] = windows[{start, e.key}];
        ++n;
        total += e.v;
        added = true;
      }
      if (!added) ++late;
      max_time = std::max(max_time, e.ts);
    }
    out.late[w.name] = late;
    for (const auto& [id, state] : windows) {
      const auto& [start, key] = id;
      if (key == "end") continue;
      out.results.push_back(w.name + " final [" + std::to_string(start) + "," +
                            std::to_string(start + w.size) + ") key=" + key +
                            " n=" + std::to_string(static_cast<double>(state.first)) +
                            " total=" + std::to_string(static_cast<double>(state.second)));
    }
  }
  std::sort(out.results.begin(), out.results.end());
  return out;
}

// The part of `all` that the reference covers.
Outcome referencedPart(const Outcome& all) {
  Outcome part;
  for (const std::string& r : all.results) {
    for (const Windowed& w : kWindowed) {
      if (r.rfind(w.name + " ", 0) == 0) part.results.push_back(r);
    }
  }
  for (const Windowed& w : kWindowed) {
    part.late[w.name] = all.late.count(w.name) ? all.late.at(w.name) : 0;
  }
  return part;
}

Outcome runFile(const std::vector<Event>& events) {
  TempDir dir;
  std::string text;
  for (const Event& e : events) text += toJson(e) + "\n";
  writeFile(dir.file("in.jsonl"), text);
  Daemon daemon(dir, configYaml(dir, "    kind: file\n    path: " + dir.file("in.jsonl") + "\n"));
  const auto status = daemon.process().wait(60s);
  EXPECT_TRUE(status.has_value() && exitCodeOf(*status) == 0) << daemon.log();
  return outcomeOf(dir, daemon);
}

// Sends the stream over one tcp connection cut into chunks of 1..max_chunk bytes, waiting after
// each until the daemon has taken every whole line in it, then stops the daemon.
Outcome runTcp(const std::vector<Event>& events, std::mt19937_64& rng, std::size_t max_chunk) {
  TempDir dir;
  Daemon daemon(dir, configYaml(dir, "    kind: tcp\n    listen: 127.0.0.1:0\n"));
  EXPECT_TRUE(daemon.waitReady());
  std::string text;
  for (const Event& e : events) text += toJson(e) + "\n";
  {
    TcpClient client(daemon.sourcePort("in"));
    std::size_t sent = 0;
    while (sent < text.size()) {
      const std::size_t chunk = std::min(text.size() - sent, 1 + rng() % max_chunk);
      EXPECT_TRUE(client.send(std::string_view(text).substr(sent, chunk)));
      sent += chunk;
      const auto lines = std::count(text.begin(), text.begin() + static_cast<long>(sent), '\n');
      EXPECT_TRUE(waitCounted(daemon, "in", lines));
    }
  }
  daemon.process().signal(SIGTERM);
  const auto status = daemon.process().wait(60s);
  EXPECT_TRUE(status.has_value() && exitCodeOf(*status) == 0) << daemon.log();
  return outcomeOf(dir, daemon);
}

// One datagram per event, in bursts of random length, each waited for (udp may otherwise drop).
Outcome runUdp(const std::vector<Event>& events, std::mt19937_64& rng) {
  TempDir dir;
  Daemon daemon(dir, configYaml(dir, "    kind: udp\n    listen: 127.0.0.1:0\n"));
  EXPECT_TRUE(daemon.waitReady());
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(daemon.sourcePort("in")));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::size_t sent = 0;
  while (sent < events.size()) {
    const std::size_t burst = std::min(events.size() - sent, 1 + rng() % 40);
    for (std::size_t i = 0; i < burst; ++i) {
      const std::string datagram = toJson(events[sent + i]);
      EXPECT_EQ(::sendto(fd, datagram.data(), datagram.size(), 0,
                         reinterpret_cast<const sockaddr*>(&to), sizeof to),
                static_cast<ssize_t>(datagram.size()));
    }
    sent += burst;
    EXPECT_TRUE(waitCounted(daemon, "in", static_cast<std::int64_t>(sent)));
  }
  ::close(fd);
  daemon.process().signal(SIGTERM);
  const auto status = daemon.process().wait(60s);
  EXPECT_TRUE(status.has_value() && exitCodeOf(*status) == 0) << daemon.log();
  return outcomeOf(dir, daemon);
}

void expectSame(const Outcome& expected, const Outcome& actual, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(actual.late, expected.late);
  std::vector<std::string> missing, extra;
  std::set_difference(expected.results.begin(), expected.results.end(), actual.results.begin(),
                      actual.results.end(), std::back_inserter(missing));
  std::set_difference(actual.results.begin(), actual.results.end(), expected.results.begin(),
                      expected.results.end(), std::back_inserter(extra));
  EXPECT_TRUE(missing.empty() && extra.empty())
      << missing.size() << " results missing, e.g. " << (missing.empty() ? "" : missing[0]) << "\n"
      << extra.size() << " results not expected, e.g. " << (extra.empty() ? "" : extra[0]);
}

TEST(DaemonLateness, SameResultsWhateverTheChunkingOrTransportAndAsTheReference) {
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::vector<Event> events = randomStream(rng);
  const Outcome expected = reference(events);
  ASSERT_GT(expected.late.at("tumble"), 20) << "the stream should have late events";
  ASSERT_LT(expected.late.at("lenient"), expected.late.at("tumble"));

  const Outcome file = runFile(events);
  ASSERT_FALSE(file.results.empty());
  expectSame(expected, referencedPart(file), "file against the reference");
  for (const char* other : {"sessions ", "updates update "}) {
    EXPECT_TRUE(std::any_of(file.results.begin(), file.results.end(), [&](const std::string& r) {
      return r.rfind(other, 0) == 0;
    })) << other;
  }

  expectSame(file, runTcp(events, rng, 300), "tcp in chunks of 1-300 bytes");
  expectSame(file, runTcp(events, rng, 4096), "tcp in chunks of 1-4096 bytes");
  expectSame(file, runTcp(events, rng, 1 << 20), "tcp in one or a few chunks");
  expectSame(file, runUdp(events, rng), "udp in random bursts");
}

}  // namespace
}  // namespace rivulet::testutil
