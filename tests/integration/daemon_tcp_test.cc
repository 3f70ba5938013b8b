// The real daemon end to end over sockets: three concurrent TCP clients feed a tcp source (events
// shuffled within each second, deliberately late events, malformed lines of every kind), two
// pipelines (tumbling per key, hopping over everything) publish on ipc:// and tcp:// at once, and
// every result, sequence number and metric is checked against a brute-force reference computed
// from the events the test sent. SIGTERM then flushes the open windows as "partial".
//
// One daemon run (SetUpTestSuite) feeds all the tests below; each checks one part of the contract.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>

#include <atomic>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "tests/integration/harness.h"
#include "tests/integration/harness/feed.h"

namespace rivulet::testutil {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kBase = 1'700'000'000'000;  // ms; a multiple of every window size here
constexpr int kSeconds = 7;
constexpr int kEventsPerSecond = 500;  // distinct ms within each second: first/last have no ties
constexpr int kLateAfterSecond = 4;    // late events are sent once second 4 has been read
constexpr int kClients = 3;
constexpr std::int64_t kFarFuture = kBase + 3'600'000 + 123;

const std::vector<std::string> kSymbols = {"AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "TSLA",
                                           "META", "IBM",  "ORCL", "INTC", "Q\"T", "Z\xc3\xa9"};

const std::vector<std::string> kReasons = {"invalid_json", "not_object",    "missing_time",
                                           "bad_time",     "missing_field", "wrong_type"};

// The hop pipeline takes every aggregate of the trades pipeline.
std::string configYaml(const TempDir& dir) {
  return daemonYaml(dir, {.publish = "[ipc://" + dir.file("r.ipc") + ", tcp://127.0.0.1:0]"}) +
         "sources:\n  in:\n    kind: tcp\n    listen: 127.0.0.1:0\n"
         "    time: {field: ts, unit: ms}\n    watermark: {delay: 0s}\npipelines:\n" +
         tradePipeline("trades", "in") +
         "  hop:\n    from: in\n    window: {hopping: {size: 3s, slide: 1s}}\n" +
         kTradeAggregatesYaml;
}

// An event as sent: its JSON line and what the reference needs.
struct Event {
  std::int64_t ts;
  std::string symbol;
  std::optional<double> px;  // nullopt: absent or null
  std::string line;
};

// Builds the JSON lines, varying what a producer may vary: member order, escapes, extra members
// (also nested ones no pipeline reads), number forms, whitespace, CRLF.
class EventWriter {
 public:
  explicit EventWriter(std::uint64_t seed) : rng_(seed) {}

  Event make(std::int64_t ts) {
    Event e{ts, kSymbols[pick(kSymbols.size())], std::nullopt, {}};
    std::string px;
    const int form = static_cast<int>(pick(100));
    if (form < 3) {
      px = "";  // absent: a null value
    } else if (form < 5) {
      px = "null";
    } else if (form < 30) {
      px = std::to_string(50 + pick(100));
    } else if (form < 35) {
      char text[32];
      std::snprintf(text, sizeof text, "%.4e", 50 + uniform_(rng_) * 100);
      px = text;
    } else {
      char text[32];
      std::snprintf(text, sizeof text, "%.2f", 50 + uniform_(rng_) * 100);
      px = text;
    }
    if (!px.empty() && px != "null") e.px = std::strtod(px.c_str(), nullptr);

    std::vector<std::string> members = {"\"ts\":" + std::to_string(ts),
                                        "\"sym\":" + quoted(e.symbol)};
    if (!px.empty()) members.push_back("\"px\":" + px);
    if (pick(10) == 0) members.push_back("\"venue\":\"XNAS\"");
    if (pick(20) == 0) members.push_back("\"meta\":{\"tags\":[1,2,{\"b\":null}],\"ok\":true}");
    std::shuffle(members.begin(), members.end(), rng_);
    const char* separator = pick(4) == 0 ? ", " : ",";
    e.line = pick(8) == 0 ? "{ " : "{";
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i > 0) e.line += separator;
      e.line += members[i];
    }
    e.line += pick(8) == 0 ? " }" : "}";
    e.line += pick(10) == 0 ? "\r\n" : "\n";
    return e;
  }

  std::uint64_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_);
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::string quoted(const std::string& s) {
    if (s == "Q\"T") return "\"Q\\\"T\"";
    if (s == "Z\xc3\xa9" && pick(2) == 0) return "\"Z\\u00e9\"";  // the same key, escaped
    return "\"" + s + "\"";
  }

  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
};

// Lines the source must refuse, by the reason it must count; `ts` keeps them in the current
// second so a wrongly accepted one could not move the watermark far. The missing_field ones (no
// sym, and no px, so that first and last have no ties) are trades' refusals alone: hop, which has
// no key, takes them.
std::vector<std::pair<std::string, std::string>> malformed(std::int64_t ts) {
  const std::string t = std::to_string(ts);
  return {
      {"invalid_json", "this is not json\n"},
      {"invalid_json", "{\"ts\":" + t + ",\"sym\":\"AAPL\",\"px\":1.5\n"},
      {"invalid_json", "{\"ts\":" + t + ",\"sym\":\"AAPL\",\"px\":1.5} trailing\n"},
      {"not_object", "[1,2,3]\n"},
      {"not_object", "\"just a string\"\n"},
      {"missing_time", "{\"sym\":\"AAPL\",\"px\":1.5}\n"},
      {"bad_time", "{\"ts\":\"soon\",\"sym\":\"AAPL\",\"px\":1.5}\n"},
      {"missing_field", "{\"ts\":" + t + "}\n"},
      {"missing_field", "{\"ts\":" + t + ",\"sym\":null}\n"},
      {"wrong_type", "{\"ts\":" + t + ",\"sym\":\"AAPL\",\"px\":\"12.5\"}\n"},
  };
}

struct Scenario {
  std::string failure;  // empty when the run went through
  std::string log;
  std::string version;  // `rivuletd --version` without the name
  WindowReference trades{"trades", {"sym"}, 1000, 1000};
  WindowReference hop{"hop", {}, 3000, 1000};
  std::map<std::string, std::int64_t> errors;  // expected, by reason
  std::int64_t trades_refused = 0;             // missing_field, for trades alone
  std::int64_t accepted = 0;                   // events the source must accept
  std::vector<Message> ipc;
  std::vector<Message> tcp;
  std::optional<Metrics> metrics;  // once every final result had arrived, before SIGTERM
  std::optional<int> exit_code;
  double stop_seconds = 0;  // SIGTERM to exit

  std::size_t finals() const { return trades.countFired(kFarFuture) + hop.countFired(kFarFuture); }
  std::size_t partials() const {
    return trades.countFired(kFarFuture, false) + hop.countFired(kFarFuture, false);
  }
};

std::size_t resultCount(const std::vector<Message>& messages) {
  return static_cast<std::size_t>(
      std::count_if(messages.begin(), messages.end(),
                    [](const Message& message) { return message.topic.rfind('_', 0); }));
}

// Sends `lines` over the clients concurrently, each client's share in random-sized pieces that
// cut through lines.
void sendConcurrently(std::vector<std::unique_ptr<TcpClient>>& clients,
                      const std::vector<std::string>& lines, std::uint64_t seed,
                      std::atomic<bool>& send_failed) {
  std::vector<std::string> shares(clients.size());
  for (std::size_t i = 0; i < lines.size(); ++i) shares[i % clients.size()] += lines[i];
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < clients.size(); ++c) {
    threads.emplace_back([&, c] {
      std::mt19937_64 rng(seed * 31 + c);
      std::string_view rest = shares[c];
      while (!rest.empty()) {
        const std::size_t n = std::min<std::size_t>(
            rest.size(), std::uniform_int_distribution<std::size_t>(1, 3000)(rng));
        if (!clients[c]->send(rest.substr(0, n))) send_failed = true;
        rest.remove_prefix(n);
      }
    });
  }
  for (std::thread& t : threads) t.join();
}

void run(Scenario& s) {
  TempDir dir;
  const Daemon* daemon_ptr = nullptr;
  const auto fail = [&](const std::string& why) {
    s.failure = why;
    if (daemon_ptr != nullptr) s.log = daemon_ptr->log();
  };

  const CommandResult version = runCommand(dir, {kDaemonPath, "--version"});
  s.version = version.out.substr(version.out.find(' ') + 1);
  if (!s.version.empty() && s.version.back() == '\n') s.version.pop_back();

  Daemon daemon(dir, configYaml(dir));
  daemon_ptr = &daemon;
  if (auto ready = daemon.waitReady(); !ready) return fail(ready.message());
  const std::string ipc_endpoint = daemon.publishEndpoint("ipc://");
  const std::string tcp_endpoint = daemon.publishEndpoint("tcp://");
  if (ipc_endpoint != "ipc://" + dir.file("r.ipc") ||
      tcp_endpoint.rfind("tcp://127.0.0.1:", 0) != 0 || tcp_endpoint.ends_with(":0")) {
    return fail("publish endpoints not logged as bound: " + ipc_endpoint + " " + tcp_endpoint);
  }
  Subscriber ipc(ipc_endpoint);
  Subscriber tcp(tcp_endpoint);
  if (auto c = ipc.waitConnected(); !c) return fail(c.message());
  if (auto c = tcp.waitConnected(); !c) return fail(c.message());
  std::string error;
  auto m = daemon.scrapeUntil(
      [](const Metrics& scraped) { return scraped.valueOr0("rivulet_subscribers") >= 2; }, 20s,
      &error);
  if (!m || m->valueOr0("rivulet_subscribers") < 2) {
    return fail("rivulet_subscribers did not reach 2 " + error);
  }

  const int port = daemon.sourcePort("in");
  if (port <= 0) return fail("no port logged for source in");
  std::vector<std::unique_ptr<TcpClient>> clients;
  for (int c = 0; c < kClients; ++c) clients.push_back(std::make_unique<TcpClient>(port));

  EventWriter writer(20261122);
  std::int64_t lines_sent = 0;
  std::int64_t watermark = std::numeric_limits<std::int64_t>::min();  // the daemon's, delay 0
  std::atomic<bool> send_failed{false};

  // One phase: send, then wait until the daemon has counted every line (accepted or refused), so
  // the next phase cannot overtake it and the watermark is known exactly.
  const auto phase = [&](std::vector<Event> events, std::int64_t malformed_ts,
                         std::uint64_t seed) -> bool {
    std::vector<std::string> lines;
    std::int64_t max_ts = watermark;
    for (const Event& e : events) {
      lines.push_back(e.line);
      // A late event is still accepted by the source; the pipelines drop it.
      s.trades.add(e.ts, {e.symbol}, e.px, watermark);
      s.hop.add(e.ts, {}, e.px, watermark);
      max_ts = std::max(max_ts, e.ts);
    }
    s.accepted += static_cast<std::int64_t>(events.size());
    for (auto& [reason, line] : malformed(malformed_ts)) {
      lines.push_back(line);
      if (reason == "missing_field") {
        s.hop.add(malformed_ts, {}, std::nullopt, watermark);
        ++s.accepted;
        ++s.trades_refused;
      } else {
        ++s.errors[reason];
      }
    }
    std::shuffle(lines.begin(), lines.end(), writer.rng());
    sendConcurrently(clients, lines, seed, send_failed);
    lines_sent += static_cast<std::int64_t>(lines.size());
    watermark = max_ts;
    const auto counted = [&](const Metrics& scraped) {
      const double refused = scraped.sum("rivulet_source_errors_total");
      return scraped.valueOr0("rivulet_source_events_total", {{"source", "in"}}) + refused ==
             static_cast<double>(lines_sent);
    };
    const auto last = daemon.scrapeUntil(counted, 30s, &error);
    if (send_failed) {
      fail("a TCP client could not send");
      return false;
    }
    if (!last || !counted(*last)) {
      fail("the daemon did not count all " + std::to_string(lines_sent) + " lines " + error);
      return false;
    }
    return true;
  };

  // Distinct ms offsets per second; the late events take offsets no regular event used.
  std::vector<std::vector<int>> offsets(kSeconds);
  for (auto& o : offsets) {
    for (int i = 0; i < 1000; ++i) o.push_back(i);
    std::shuffle(o.begin(), o.end(), writer.rng());
  }
  // The first ms after the late events' second is taken by the event on the window edge.
  std::erase(offsets[kLateAfterSecond + 1], 0);
  for (int second = 0; second < kSeconds; ++second) {
    const std::int64_t start = kBase + second * 1000;
    std::vector<Event> events;
    for (int i = 0; i < kEventsPerSecond; ++i)
      events.push_back(writer.make(start + offsets[second][i]));
    if (!phase(std::move(events), start + 500, static_cast<std::uint64_t>(second))) return;
    if (second == kLateAfterSecond) {
      // Exactly on the end of second 4: the watermark fires [4 s, 5 s) and the hopping window
      // [2 s, 5 s) as it reaches their end.
      const std::int64_t edge = kBase + (kLateAfterSecond + 1) * 1000;
      Event on_edge = writer.make(edge);
      if (!phase({on_edge}, edge, 99)) return;
      // Late events, at distinct unused times: second 0 is late everywhere; seconds 3 and 4 are
      // late for the tumbling windows (second 4 just so: its window ends on the watermark) but
      // still count in the hopping windows that end after 5 s.
      std::vector<Event> late;
      for (int i = 0; i < 3; ++i) {
        for (int late_second : {0, 3, 4}) {
          late.push_back(
              writer.make(kBase + late_second * 1000 + offsets[late_second][kEventsPerSecond + i]));
        }
      }
      if (!phase(std::move(late), start + 900, 100)) return;
    }
  }
  // Far in the future: its watermark passes every earlier window.
  const Event far{kFarFuture, "AAPL", 99.5,
                  "{\"ts\":" + std::to_string(kFarFuture) + ",\"sym\":\"AAPL\",\"px\":99.5}\n"};
  if (!phase({far}, kFarFuture, 200)) return;

  const std::size_t finals = s.finals();
  const auto all_finals = [&](const std::vector<Message>& scraped) {
    return resultCount(scraped) >= finals;
  };
  if (!ipc.receiveUntil(all_finals, 30s) || !tcp.receiveUntil(all_finals, 30s)) {
    s.ipc = ipc.messages();
    s.tcp = tcp.messages();
    return fail("not every final result arrived: ipc " +
                std::to_string(resultCount(ipc.messages())) + ", tcp " +
                std::to_string(resultCount(tcp.messages())) + " of " + std::to_string(finals));
  }
  // Counters are bumped right after the send, and a stage counts the events it took once per
  // batch (the last phase's lines without a key may reach hop after the results went out): wait
  // for them to catch up.
  s.metrics = daemon.scrapeUntil(
      [&](const Metrics& scraped) {
        return scraped.sum("rivulet_results_published_total") >= static_cast<double>(finals) &&
               scraped.sum("rivulet_emit_latency_seconds_count") >= static_cast<double>(finals) &&
               scraped.valueOr0("rivulet_pipeline_events_total", {{"pipeline", "hop"}}) +
                       scraped.valueOr0("rivulet_pipeline_late_events_total",
                                        {{"pipeline", "hop"}}) >=
                   static_cast<double>(s.hop.events() + s.hop.late());
      },
      10s, &error);
  if (!s.metrics) return fail("cannot scrape /metrics: " + error);

  const auto stop_at = Clock::now();
  if (!daemon.process().signal(SIGTERM)) return fail("cannot send SIGTERM");
  s.exit_code = daemon.process().wait(30s);
  s.stop_seconds = std::chrono::duration<double>(Clock::now() - stop_at).count();

  const std::size_t all = finals + s.partials();
  const auto everything = [&](const std::vector<Message>& scraped) {
    return resultCount(scraped) >= all;
  };
  ipc.receiveUntil(everything, 10s);
  tcp.receiveUntil(everything, 10s);
  // Anything beyond is an error the tests should see.
  ipc.receiveFor(200ms);
  tcp.receiveFor(200ms);
  s.ipc = ipc.messages();
  s.tcp = tcp.messages();
  s.log = daemon.log();
  for (auto& c : clients) c->close();
}

class DaemonTcp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scenario_ = new Scenario;
    try {
      run(*scenario_);
    } catch (const std::exception& e) {
      scenario_->failure = e.what();
    }
    if (!scenario_->failure.empty()) {
      std::fprintf(stderr, "[scenario] %s\nrivuletd log:\n%s\n", scenario_->failure.c_str(),
                   scenario_->log.c_str());
    }
  }
  static void TearDownTestSuite() {
    delete scenario_;
    scenario_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(scenario_->failure, ""); }

  static const Scenario& s() { return *scenario_; }

  static void expectFinalsMatch(const std::vector<Message>& messages) {
    const std::vector<Result> results = parseResults(messages);
    const auto fired = [](const WindowId& w) { return w.end <= kFarFuture; };
    expectResultsMatch(results, "final", s().trades, kTradeAggregates, fired);
    expectResultsMatch(results, "final", s().hop, kTradeAggregates, fired);
    // Shapes the reference implies: 12 keys x 7 s, and every hopping window over seconds 0..6.
    EXPECT_EQ(s().trades.countFired(kFarFuture), kSymbols.size() * kSeconds);
    EXPECT_EQ(s().hop.countFired(kFarFuture), static_cast<std::size_t>(kSeconds + 2));
  }

  static Scenario* scenario_;
};

Scenario* DaemonTcp::scenario_ = nullptr;

TEST_F(DaemonTcp, FinalResultsOnIpcMatchTheReference) { expectFinalsMatch(s().ipc); }

TEST_F(DaemonTcp, FinalResultsOnTcpMatchTheReference) { expectFinalsMatch(s().tcp); }

TEST_F(DaemonTcp, SeqRunsFromOneWithoutGapsAndBothEndpointsCarryTheSameStream) {
  for (const auto* messages : {&s().ipc, &s().tcp}) {
    const std::vector<Result> results = parseResults(*messages);
    expectSeqWithoutGaps(results);
    std::map<std::string, std::int64_t> per_pipeline;
    for (const Result& r : results) ++per_pipeline[r.pipeline];
    EXPECT_EQ(per_pipeline["trades"], static_cast<std::int64_t>(s().trades.windows().size()));
    EXPECT_EQ(per_pipeline["hop"], static_cast<std::int64_t>(s().hop.windows().size()));
  }
  ASSERT_EQ(s().ipc.size(), s().tcp.size());
  for (std::size_t i = 0; i < s().ipc.size(); ++i) {
    EXPECT_EQ(s().ipc[i].topic, s().tcp[i].topic) << i;
    EXPECT_EQ(s().ipc[i].payload, s().tcp[i].payload) << i;
  }
}

TEST_F(DaemonTcp, MetricsCountEventsErrorsLateEventsAndResults) {
  ASSERT_TRUE(s().metrics.has_value());
  const Metrics& m = *s().metrics;
  EXPECT_EQ(m.value("rivulet_source_events_total", {{"source", "in"}}),
            static_cast<double>(s().accepted));
  for (const std::string& reason : kReasons) {
    const auto it = s().errors.find(reason);
    EXPECT_EQ(m.value("rivulet_source_errors_total", {{"source", "in"}, {"reason", reason}}),
              static_cast<double>(it == s().errors.end() ? 0 : it->second))
        << reason;
  }
  for (const Sample& e : m.all("rivulet_source_errors_total")) {
    if (!s().errors.count(e.labels.at("reason"))) {
      EXPECT_EQ(e.value, 0) << "reason " << e.labels.at("reason");
    }
  }
  EXPECT_EQ(m.value("rivulet_pipeline_refused_total",
                    {{"pipeline", "trades"}, {"reason", "missing_field"}}),
            static_cast<double>(s().trades_refused));
  EXPECT_GT(s().trades_refused, 0);
  EXPECT_EQ(m.sum("rivulet_pipeline_refused_total"), static_cast<double>(s().trades_refused));
  EXPECT_EQ(s().trades.late(), 9);  // the late events of seconds 0, 3 and 4
  EXPECT_EQ(s().hop.late(), 3);     // those of second 0 only
  EXPECT_EQ(m.value("rivulet_pipeline_late_events_total", {{"pipeline", "trades"}}),
            static_cast<double>(s().trades.late()));
  EXPECT_EQ(m.value("rivulet_pipeline_late_events_total", {{"pipeline", "hop"}}),
            static_cast<double>(s().hop.late()));
  EXPECT_EQ(m.value("rivulet_pipeline_events_total", {{"pipeline", "trades"}}),
            static_cast<double>(s().trades.events()));
  EXPECT_EQ(m.value("rivulet_pipeline_events_total", {{"pipeline", "hop"}}),
            static_cast<double>(s().hop.events()));
  const auto trades_finals = static_cast<double>(s().trades.countFired(kFarFuture));
  const auto hop_finals = static_cast<double>(s().hop.countFired(kFarFuture));
  // Per pipeline: all results so far are final ones, and each had its latency observed.
  for (const auto& [p, finals] : {std::pair{"trades", trades_finals}, {"hop", hop_finals}}) {
    EXPECT_EQ(m.value("rivulet_results_published_total", {{"pipeline", p}, {"kind", "final"}}),
              finals)
        << p;
    for (const char* kind : {"update", "partial"}) {
      EXPECT_EQ(m.value("rivulet_results_published_total", {{"pipeline", p}, {"kind", kind}}), 0.0)
          << p << " " << kind;
    }
    EXPECT_EQ(m.value("rivulet_emit_latency_seconds_count", {{"pipeline", p}}), finals) << p;
    EXPECT_EQ(m.value("rivulet_emit_latency_seconds_bucket", {{"pipeline", p}, {"le", "+Inf"}}),
              finals)
        << p;
    EXPECT_GE(m.valueOr0("rivulet_emit_latency_seconds_sum", {{"pipeline", p}}), 0) << p;
  }
  EXPECT_EQ(m.value("rivulet_build_info", {{"version", s().version}}), 1.0)
      << "version " << s().version;
  EXPECT_EQ(m.value("rivulet_subscribers"), 2.0);
  EXPECT_EQ(m.value("rivulet_source_dropped_total", {{"source", "in"}}), 0.0);
  EXPECT_TRUE(m.value("rivulet_ring_full_waits_total", {{"source", "in"}}).has_value());
  EXPECT_GT(m.valueOr0("rivulet_process_resident_memory_bytes"), 0);
  for (const char* p : {"trades", "hop"}) {
    EXPECT_TRUE(m.value("rivulet_pipeline_keys", {{"pipeline", p}}).has_value()) << p;
    EXPECT_TRUE(m.value("rivulet_watermark_lag_seconds", {{"pipeline", p}}).has_value()) << p;
  }
}

TEST_F(DaemonTcp, SigtermPublishesOpenWindowsAsPartialAndExitsZero) {
  ASSERT_TRUE(s().exit_code.has_value()) << "still running 30 s after SIGTERM";
  EXPECT_EQ(*s().exit_code, 0);
  EXPECT_LT(s().stop_seconds, 5.0);
  EXPECT_THAT(s().log, HasSubstr("SIGTERM"));
  // The far-future event's windows were open: one tumbling window, three hopping windows.
  EXPECT_EQ(s().trades.countFired(kFarFuture, false), 1u);
  EXPECT_EQ(s().hop.countFired(kFarFuture, false), 3u);
  const auto open = [](const WindowId& w) { return w.end > kFarFuture; };
  for (const auto* messages : {&s().ipc, &s().tcp}) {
    const std::vector<Result> results = parseResults(*messages);
    expectResultsMatch(results, "partial", s().trades, kTradeAggregates, open);
    expectResultsMatch(results, "partial", s().hop, kTradeAggregates, open);
    // Partials come after every final.
    bool partial_seen = false;
    for (const Result& r : results) {
      if (r.kind == "partial") partial_seen = true;
      if (partial_seen) {
        EXPECT_EQ(r.kind, "partial") << r.payload;
      }
    }
  }
}

// DESIGN §3: after the results of a window, `_window/<pipeline>/` with
// {"pipeline","start","end","results":N}.
TEST_F(DaemonTcp, EndOfWindowMarkerFollowsEachFiredWindow) {
  for (const auto* messages : {&s().ipc, &s().tcp}) {
    std::map<std::tuple<std::string, std::int64_t, std::int64_t>, std::int64_t> open_results;
    std::set<std::tuple<std::string, std::int64_t, std::int64_t>> marked;
    for (const Message& m : *messages) {
      if (m.topic.rfind("_window/", 0) != 0) {
        std::string error;
        if (auto r = parseResult(m, &error); r && r->kind == "final") {
          const auto id = std::make_tuple(r->pipeline, r->start, r->end);
          EXPECT_FALSE(marked.count(id)) << "result after its window's marker: " << m.payload;
          ++open_results[id];
        }
        continue;
      }
      simdjson::dom::parser parser;
      simdjson::dom::object marker;
      ASSERT_FALSE(parser.parse(m.payload).get_object().get(marker)) << m.payload;
      std::string_view pipeline;
      std::int64_t start = 0, end = 0, results = 0;
      EXPECT_FALSE(marker["pipeline"].get_string().get(pipeline)) << m.payload;
      EXPECT_FALSE(marker["start"].get_int64().get(start)) << m.payload;
      EXPECT_FALSE(marker["end"].get_int64().get(end)) << m.payload;
      EXPECT_FALSE(marker["results"].get_int64().get(results)) << m.payload;
      EXPECT_EQ(m.topic, "_window/" + std::string(pipeline) + "/");
      const auto id = std::make_tuple(std::string(pipeline), start, end);
      if (end > kFarFuture) continue;  // a flushed window: not checked here
      EXPECT_TRUE(marked.insert(id).second) << "second marker: " << m.payload;
      EXPECT_EQ(results, open_results[id]) << m.payload;
    }
    std::set<std::tuple<std::string, std::int64_t, std::int64_t>> windows;
    for (const auto* ref : {&s().trades, &s().hop}) {
      for (const auto& [id, state] : ref->windows()) {
        if (id.end <= kFarFuture) windows.insert({ref->pipeline(), id.start, id.end});
      }
    }
    EXPECT_EQ(marked.size(), windows.size())
        << "end-of-window markers on " << messages->size() << " messages";
  }
}

}  // namespace
}  // namespace rivulet::testutil
