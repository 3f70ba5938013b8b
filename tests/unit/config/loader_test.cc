// Valid configs: every field of the typed Config, the defaults, loadFile and summary.
#include "config/loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace rivulet::config {
namespace {

constexpr Nanos kMs = 1'000'000;
constexpr Nanos kSecond = 1'000 * kMs;
constexpr Nanos kMinute = 60 * kSecond;

Config loadOk(std::string_view yaml) {
  LoadResult result = loadString(yaml, "t.yaml");
  for (const ConfigError& error : result.errors) ADD_FAILURE() << error.toString();
  EXPECT_TRUE(result.config.has_value());
  return result.config.value_or(Config{});
}

// The group_by names of `pipeline`, each an expression's canonical text after "=" when it is one.
std::vector<std::string> groupBy(const PipelineConfig& pipeline) {
  std::vector<std::string> out;
  for (const GroupBySpec& part : pipeline.group_by)
    out.push_back(part.name + (part.expression ? "=" + part.expression->toString() : ""));
  return out;
}

// DESIGN §2's example, trimmed to what this slice supports.
constexpr std::string_view kFullConfig = R"(daemon:
  metrics: 0.0.0.0:9100
  publish: [tcp://127.0.0.1:5556, "ipc:///run/rivulet/results"]
  output: results.jsonl
  stages: 2
  cpus: { sources: [0, 1], stages: [1], publisher: 0 }
  log_level: debug

sources:
  trades:
    kind: tcp
    listen: 127.0.0.1:7000
    max_line: 4096
    max_connections: 8
    format: json
    time: { field: ts, unit: us }
    watermark: { delay: 2s, idle: 5s, max_future: 1h }
  demo:
    kind: generator
    keys: 50
    events_per_second: 2000
    start: 1700000000000
    throttle: 100000
    count: 10000
    seed: 18446744073709551615
  replay:
    kind: file
    path: /var/log/trades.jsonl
    follow: true
    time: { field: event_time, unit: s }

pipelines:
  volume_1m:
    from: trades
    group_by: [symbol]
    window: { tumbling: 1m }
    allowed_lateness: 500ms
    emit: final
    aggregates:
      trades: count()
      volume: sum(qty)
      avg_price: avg(price)
      high: max(price)
      low: min(price)
      first_price: first(price)
      last_price: last( price )
  demo_5m:
    from: [demo, replay]
    group_by: key
    window:
      hopping: { size: 5m, slide: 1m }
    aggregates: { n: count(), total: sum(value) }
)";

// DESIGN §2's example, verbatim: with checkpoints and a kafka source, which checkpoints cover.
TEST(Load, DesignExampleVerbatim) {
  const Config config = loadOk(R"yaml(daemon:
  metrics: 127.0.0.1:9464          # Prometheus /metrics; host:port; default 127.0.0.1:9464
  publish: tcp://127.0.0.1:5556    # ZeroMQ endpoint the result socket binds; a list is allowed
  output: results.jsonl            # optional: also append every result as a JSON line ("-" = stdout)
  stages: 2                        # aggregation threads; default: cores - 1, at least 1
  cpus: { sources: [0], stages: [1], publisher: 0 }   # optional pinning; default: spread, no pin on 1 core
  checkpoint: { dir: /var/lib/rivulet, interval: 10s }  # optional
  log_level: info

sources:
  trades:                          # the map key is the source name
    kind: kafka                    # kafka | zmq | tcp | udp | file | generator
    brokers: 127.0.0.1:9092
    topics: [trades]
    group: rivulet
    format: json                   # json | csv (with `columns:`)
    time: { field: ts, unit: ms }  # s | ms | us | ns; omit `time` for processing time
    watermark: { delay: 2s, idle: 5s, max_future: 1h }  # out-of-orderness; idle inputs stop holding
                                   # it back; events stamped further ahead of the wall clock are refused
  demo:
    kind: generator                # deterministic synthetic events: ts, key ("k<i>"), value
    keys: 1000
    events_per_second: 100000      # event-time density: ts advances 1 s per this many events
    throttle: 100000               # wall-clock events/s; 0 = as fast as possible
    count: 0                       # stop after this many events; 0 = never
    seed: 1

pipelines:
  volume_1m:                       # the map key is the pipeline name = the result topic
    from: trades                   # a source name or a list of them
    where: "qty > 0 and venue != 'DARK'"
    group_by: [symbol]             # zero or more fields
    window: { tumbling: 1m }       # or { hopping: { size: 5m, slide: 1m } } or { session: { gap: 30s } }
    allowed_lateness: 0s
    emit: final                    # final | updates (late events re-emit the window as kind "update")
    aggregates:                    # output name: function
      trades: count()
      volume: sum(qty)
      avg_price: avg(price)
      high: max(price)
      low: min(price)
      first_price: first(price)
      last_price: last(price)
      sd_price: stddev(price)
      p99_price: quantile(price, 0.99)
      buyers: count_distinct(account)
      top_venues: top_k(venue, 3)
)yaml");
  ASSERT_TRUE(config.daemon.checkpoint.has_value());
  EXPECT_EQ(config.daemon.checkpoint->dir, "/var/lib/rivulet");
  ASSERT_EQ(config.sources.size(), 2u);
  EXPECT_EQ(config.sources[0].kind, SourceKind::kKafka);
  EXPECT_EQ(config.sources[1].kind, SourceKind::kGenerator);
  ASSERT_EQ(config.pipelines.size(), 1u);
  EXPECT_EQ(config.pipelines[0].name, "volume_1m");
}

TEST(Load, FullConfigFieldByField) {
  const Config config = loadOk(kFullConfig);
  EXPECT_EQ(config.file, "t.yaml");

  const DaemonConfig& daemon = config.daemon;
  EXPECT_EQ(daemon.metrics.host, "0.0.0.0");
  EXPECT_EQ(daemon.metrics.port, 9100);
  EXPECT_EQ(daemon.publish,
            (std::vector<std::string>{"tcp://127.0.0.1:5556", "ipc:///run/rivulet/results"}));
  EXPECT_EQ(daemon.output, "results.jsonl");
  EXPECT_EQ(daemon.stages, 2);
  ASSERT_TRUE(daemon.cpus.has_value());
  EXPECT_EQ(daemon.cpus->sources, (std::vector<int>{0, 1}));
  EXPECT_EQ(daemon.cpus->stages, (std::vector<int>{1}));
  EXPECT_EQ(daemon.cpus->publisher, 0);
  EXPECT_EQ(daemon.log_level, "debug");

  ASSERT_EQ(config.sources.size(), 3u);
  const SourceConfig& trades = config.sources[0];
  EXPECT_EQ(trades.name, "trades");
  EXPECT_EQ(trades.kind, SourceKind::kTcp);
  EXPECT_EQ(trades.tcp.listen.host, "127.0.0.1");
  EXPECT_EQ(trades.tcp.listen.port, 7000);
  EXPECT_EQ(trades.tcp.max_line, 4096);
  EXPECT_EQ(trades.tcp.max_connections, 8);
  ASSERT_TRUE(trades.time.has_value());
  EXPECT_EQ(trades.time->field, "ts");
  EXPECT_EQ(trades.time->unit, TimeUnit::kMicros);
  EXPECT_EQ(trades.watermark.delay, 2 * kSecond);
  EXPECT_EQ(trades.watermark.idle, 5 * kSecond);
  EXPECT_EQ(trades.watermark.max_future, 60 * kMinute);

  const SourceConfig& demo = config.sources[1];
  EXPECT_EQ(demo.name, "demo");
  EXPECT_EQ(demo.kind, SourceKind::kGenerator);
  EXPECT_EQ(demo.generator.keys, 50);
  EXPECT_EQ(demo.generator.events_per_second, 2000);
  EXPECT_EQ(demo.generator.start_ms, 1700000000000);
  EXPECT_EQ(demo.generator.throttle, 100000);
  EXPECT_EQ(demo.generator.count, 10000);
  EXPECT_EQ(demo.generator.seed, 18446744073709551615u);
  ASSERT_TRUE(demo.time.has_value());  // a generator's default
  EXPECT_EQ(demo.time->field, "ts");
  EXPECT_EQ(demo.time->unit, TimeUnit::kMillis);
  EXPECT_EQ(demo.watermark.delay, 0);

  const SourceConfig& replay = config.sources[2];
  EXPECT_EQ(replay.name, "replay");
  EXPECT_EQ(replay.kind, SourceKind::kFile);
  EXPECT_EQ(replay.file.path, "/var/log/trades.jsonl");
  EXPECT_TRUE(replay.file.follow);
  ASSERT_TRUE(replay.time.has_value());
  EXPECT_EQ(replay.time->field, "event_time");
  EXPECT_EQ(replay.time->unit, TimeUnit::kSeconds);

  ASSERT_EQ(config.pipelines.size(), 2u);
  const PipelineConfig& volume = config.pipelines[0];
  EXPECT_EQ(volume.name, "volume_1m");
  EXPECT_EQ(volume.from, (std::vector<std::string>{"trades"}));
  EXPECT_EQ(groupBy(volume), (std::vector<std::string>{"symbol"}));
  EXPECT_EQ(volume.window.kind, WindowKind::kTumbling);
  EXPECT_EQ(volume.window.size, kMinute);
  EXPECT_EQ(volume.window.slide, kMinute);
  EXPECT_EQ(volume.allowed_lateness, 500 * kMs);
  const std::vector<std::tuple<std::string, AggregateKind, std::string>> expected = {
      {"trades", AggregateKind::kCount, ""},
      {"volume", AggregateKind::kSum, "qty"},
      {"avg_price", AggregateKind::kAvg, "price"},
      {"high", AggregateKind::kMax, "price"},
      {"low", AggregateKind::kMin, "price"},
      {"first_price", AggregateKind::kFirst, "price"},
      {"last_price", AggregateKind::kLast, "price"},
  };
  ASSERT_EQ(volume.aggregates.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(volume.aggregates[i].name, std::get<0>(expected[i])) << i;
    EXPECT_EQ(volume.aggregates[i].kind, std::get<1>(expected[i])) << i;
    EXPECT_EQ(volume.aggregates[i].field, std::get<2>(expected[i])) << i;
  }

  const PipelineConfig& demo_5m = config.pipelines[1];
  EXPECT_EQ(demo_5m.name, "demo_5m");
  EXPECT_EQ(demo_5m.from, (std::vector<std::string>{"demo", "replay"}));
  EXPECT_EQ(groupBy(demo_5m), (std::vector<std::string>{"key"}));
  EXPECT_EQ(demo_5m.window.kind, WindowKind::kHopping);
  EXPECT_EQ(demo_5m.window.size, 5 * kMinute);
  EXPECT_EQ(demo_5m.window.slide, kMinute);
  EXPECT_EQ(demo_5m.allowed_lateness, 0);
  ASSERT_EQ(demo_5m.aggregates.size(), 2u);
  EXPECT_EQ(demo_5m.aggregates[0].name, "n");
  EXPECT_EQ(demo_5m.aggregates[0].kind, AggregateKind::kCount);
  EXPECT_EQ(demo_5m.aggregates[1].name, "total");
  EXPECT_EQ(demo_5m.aggregates[1].kind, AggregateKind::kSum);
  EXPECT_EQ(demo_5m.aggregates[1].field, "value");

  EXPECT_EQ(summary(config),
            "t.yaml: ok: 3 sources (trades: tcp, demo: generator, replay: file), 2 pipelines "
            "(volume_1m: tumbling 1m, demo_5m: hopping 5m/1m)");
}

TEST(Load, Defaults) {
  const Config config = loadOk(R"(sources:
  demo: { kind: generator }
  log: { kind: file, path: "-" }
  net: { kind: tcp, listen: "[::1]:0" }
pipelines:
  p: { from: demo, window: { tumbling: 1s }, aggregates: { n: count() } }
)");
  const DaemonConfig& daemon = config.daemon;
  EXPECT_EQ(daemon.metrics.host, "127.0.0.1");
  EXPECT_EQ(daemon.metrics.port, 9464);
  EXPECT_EQ(daemon.publish, (std::vector<std::string>{"tcp://127.0.0.1:5556"}));
  EXPECT_EQ(daemon.output, "");
  EXPECT_EQ(daemon.stages, 0);
  EXPECT_FALSE(daemon.cpus.has_value());
  EXPECT_EQ(daemon.log_level, "info");

  ASSERT_EQ(config.sources.size(), 3u);
  const SourceConfig& demo = config.sources[0];
  EXPECT_EQ(demo.generator.keys, 1000);
  EXPECT_EQ(demo.generator.events_per_second, 100000);
  EXPECT_EQ(demo.generator.start_ms, std::nullopt);
  EXPECT_EQ(demo.generator.throttle, 0);
  EXPECT_EQ(demo.generator.count, 0);
  EXPECT_EQ(demo.generator.seed, 1u);
  ASSERT_TRUE(demo.time.has_value());
  EXPECT_EQ(demo.time->field, "ts");
  EXPECT_EQ(demo.time->unit, TimeUnit::kMillis);
  EXPECT_EQ(demo.watermark.delay, 0);
  EXPECT_EQ(demo.watermark.idle, 0);
  EXPECT_EQ(demo.watermark.max_future, 0);

  const SourceConfig& log = config.sources[1];
  EXPECT_EQ(log.file.path, "-");
  EXPECT_FALSE(log.file.follow);
  EXPECT_FALSE(log.time.has_value());  // processing time

  const SourceConfig& net = config.sources[2];
  EXPECT_EQ(net.tcp.listen.host, "::1");
  EXPECT_EQ(net.tcp.listen.port, 0);
  EXPECT_EQ(net.tcp.max_line, 1 << 20);
  EXPECT_EQ(net.tcp.max_connections, 64);

  ASSERT_EQ(config.pipelines.size(), 1u);
  EXPECT_TRUE(config.pipelines[0].group_by.empty());
  EXPECT_EQ(config.pipelines[0].allowed_lateness, 0);
}

TEST(Load, ConfigOrderIsFileOrder) {
  const Config config = loadOk(R"(pipelines:
  zeta: { from: b, window: { tumbling: 1s }, aggregates: { n: count() } }
  alpha: { from: a, window: { tumbling: 2s }, aggregates: { n: count() } }
  mid: { from: [b, a], window: { tumbling: 3s }, aggregates: { n: count() } }
sources:
  b: { kind: generator }
  a: { kind: generator }
)");
  ASSERT_EQ(config.sources.size(), 2u);
  EXPECT_EQ(config.sources[0].name, "b");
  EXPECT_EQ(config.sources[1].name, "a");
  ASSERT_EQ(config.pipelines.size(), 3u);
  EXPECT_EQ(config.pipelines[0].name, "zeta");
  EXPECT_EQ(config.pipelines[1].name, "alpha");
  EXPECT_EQ(config.pipelines[2].name, "mid");
  EXPECT_EQ(config.pipelines[2].from, (std::vector<std::string>{"b", "a"}));
}

TEST(Load, AcceptedSpellings) {
  const Config config = loadOk(R"yaml(daemon:
  metrics: "[::1]:9464"
  publish: inproc://results
  output: "-"
  stages: "256"
  cpus: {}
  log_level: error
sources:
  s1.v2-x:
    kind: generator
    start: now
    keys: 1
    events_per_second: 1
    time: { field: value, unit: ns }
    watermark: {}
  2nd:
    kind: file
    path: in.jsonl
    follow: FALSE
    time: { field: at, unit: iso8601 }
pipelines:
  p-1.final:
    from: [s1.v2-x]
    group_by: []
    window: { tumbling: 1d }
    allowed_lateness: 0ns
    emit: final
    aggregates:
      "avg": "avg(value)"
  P2:
    from: 2nd
    group_by:
    window: { hopping: { size: 10s, slide: 10s } }
    aggregates: { s: sum(a), "n": "  count ( )  " }
)yaml");
  EXPECT_EQ(config.daemon.metrics.host, "::1");
  EXPECT_EQ(config.daemon.publish, (std::vector<std::string>{"inproc://results"}));
  EXPECT_EQ(config.daemon.output, "-");
  EXPECT_EQ(config.daemon.stages, 256);
  ASSERT_TRUE(config.daemon.cpus.has_value());
  EXPECT_TRUE(config.daemon.cpus->sources.empty());
  EXPECT_EQ(config.daemon.cpus->publisher, std::nullopt);
  EXPECT_EQ(config.daemon.log_level, "error");
  EXPECT_EQ(config.sources[0].name, "s1.v2-x");
  EXPECT_EQ(config.sources[0].generator.start_ms, std::nullopt);
  EXPECT_EQ(config.sources[0].time->field, "value");
  EXPECT_EQ(config.sources[0].time->unit, TimeUnit::kNanos);
  EXPECT_FALSE(config.sources[1].file.follow);
  ASSERT_TRUE(config.sources[1].time.has_value());
  EXPECT_EQ(config.sources[1].time->field, "at");
  EXPECT_EQ(config.sources[1].time->unit, TimeUnit::kIso8601);
  EXPECT_EQ(config.pipelines[0].window.size, 86'400 * kSecond);
  EXPECT_EQ(config.pipelines[1].window.kind, WindowKind::kHopping);
  EXPECT_EQ(config.pipelines[1].window.slide, 10 * kSecond);
  EXPECT_TRUE(config.pipelines[1].group_by.empty());
  EXPECT_EQ(config.pipelines[1].aggregates[1].kind, AggregateKind::kCount);
}

TEST(Load, MaxKeysAndEmitUpdates) {
  const LoadResult result = loadString(R"yaml(sources: { g: { kind: generator } }
pipelines:
  bounded:
    from: g
    window: { tumbling: 1s }
    max_keys: 100000
    emit: updates
    allowed_lateness: 5s
    aggregates: { n: count() }
  unbounded:
    from: g
    window: { tumbling: 1s }
    aggregates: { n: count() }
)yaml",
                                       "t.yaml");
  ASSERT_TRUE(result.config.has_value()) << result.errors.front().toString();
  EXPECT_EQ(result.config->pipelines[0].max_keys, 100'000);
  EXPECT_EQ(result.config->pipelines[1].max_keys, 0);
  EXPECT_TRUE(result.config->pipelines[0].emit_updates);
  EXPECT_FALSE(result.config->pipelines[1].emit_updates);
}

// group_by entries are field names or single `name: expression` maps, in any YAML spelling; an
// expression may have any type, read nested fields, and take the name of a field it reads.
TEST(Load, GroupByExpressions) {
  const Config config = loadOk(R"yaml(sources:
  s: { kind: file, path: x }
  g: { kind: generator }
pipelines:
  trades:
    from: s
    group_by:
      - symbol
      - bucket: floor(price / 10)
      - venue: "lower(venue)"
      - big: qty >= 100
      - side: order.side
    window: { tumbling: 1s }
    aggregates: { n: count() }
  flow:
    from: s
    group_by: [{ band: 'ceil(px / 2.5) * 2.5' }, sym]
    window: { tumbling: 1s }
    aggregates: { n: count() }
  generated:
    from: g
    group_by:
      - parity: "value - floor(value / 2) * 2"
    window: { tumbling: 1s }
    aggregates: { n: count() }
)yaml");
  ASSERT_EQ(config.pipelines.size(), 3u);
  EXPECT_EQ(groupBy(config.pipelines[0]),
            (std::vector<std::string>{"symbol", "bucket=floor(price / 10)", "venue=lower(venue)",
                                      "big=qty >= 100", "side=order.side"}));
  EXPECT_EQ(config.pipelines[0].group_by[1].expression->type(), ExprType::kNumber);
  EXPECT_EQ(config.pipelines[0].group_by[2].expression->type(), ExprType::kString);
  EXPECT_EQ(config.pipelines[0].group_by[3].expression->type(), ExprType::kBool);
  EXPECT_EQ(config.pipelines[0].group_by[4].expression->type(), ExprType::kAny);
  EXPECT_EQ(groupBy(config.pipelines[1]),
            (std::vector<std::string>{"band=ceil(px / 2.5) * 2.5", "sym"}));
  EXPECT_EQ(groupBy(config.pipelines[2]),
            (std::vector<std::string>{"parity=value - floor(value / 2) * 2"}));
}

TEST(Load, HoppingPaneLimitBoundary) {
  // 10000 panes of 1ms is the most allowed.
  const Config config = loadOk(R"(sources: { g: { kind: generator } }
pipelines:
  p: { from: g, window: { hopping: { size: 10s, slide: 1ms } }, aggregates: { n: count() } }
)");
  EXPECT_EQ(config.pipelines[0].window.slide, kMs);
}

TEST(Load, NexmarkGeneratorTimesByDateTime) {
  const Config config = loadOk(R"(sources: { nx: { kind: generator, profile: nexmark } }
pipelines:
  p: { from: nx, group_by: [auction], window: { tumbling: 1s }, aggregates: { m: max(price) } }
)");
  EXPECT_EQ(config.sources[0].generator.profile, GeneratorProfile::kNexmark);
  ASSERT_TRUE(config.sources[0].time.has_value());
  EXPECT_EQ(config.sources[0].time->field, "dateTime");
}

// NEXMark Q8's inputs: persons by id and auctions by seller, each with its own fields.
TEST(Load, NexmarkGeneratorPersonsAndAuctions) {
  const Config config = loadOk(R"yaml(sources: { nx: { kind: generator, profile: nexmark } }
pipelines:
  persons:
    from: nx
    where: "event_type == 0 and state in ['OR', 'ID', 'CA']"
    group_by: [id, name, city]
    window: { tumbling: 10s }
    aggregates: { n: count() }
  sellers:
    from: nx
    where: "event_type == 1 and reserve >= initial_bid"
    group_by: [seller, category]
    window: { tumbling: 10s }
    aggregates: { auctions: count(), top: max(reserve), ends: max(expires) }
  channels:
    from: nx
    where: "event_type == 2 and channel != 'Google'"
    group_by: [channel]
    window: { tumbling: 10s }
    aggregates: { bids: count() }
)yaml");
  ASSERT_EQ(config.pipelines.size(), 3u);
  EXPECT_EQ(config.pipelines[0].group_by.size(), 3u);
  EXPECT_EQ(config.pipelines[1].group_by.size(), 2u);
}

TEST(Load, SessionWindow) {
  const Config config = loadOk(R"(sources: { g: { kind: generator } }
pipelines:
  p: { from: g, window: { session: { gap: 30s } }, aggregates: { n: count() } }
)");
  EXPECT_EQ(config.pipelines[0].window.kind, WindowKind::kSession);
  EXPECT_EQ(config.pipelines[0].window.size, 30'000 * kMs);
}

TEST(Summary, EveryWindowKind) {
  const Config config = loadOk(R"(sources:
  demo: { kind: generator }
pipelines:
  w1: { from: demo, window: { tumbling: 1s }, aggregates: { n: count() } }
  w2: { from: demo, window: { hopping: { size: 10s, slide: 1s } }, aggregates: { n: count() } }
  w3: { from: demo, window: { session: { gap: 1m } }, aggregates: { n: count() } }
)");
  EXPECT_EQ(summary(config),
            "t.yaml: ok: 1 source (demo: generator), 3 pipelines (w1: tumbling 1s, w2: hopping "
            "10s/1s, w3: session gap 1m)");
}

class TempFile {
 public:
  explicit TempFile(std::string_view contents) {
    char name[] = "/tmp/rivulet_config_test_XXXXXX";
    const int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = name;
    std::ofstream(path_) << contents;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(LoadFile, ReadsAFile) {
  const TempFile file(R"(sources:
  demo: { kind: generator }
pipelines:
  w1: { from: demo, window: { tumbling: 1s }, aggregates: { n: count() } }
)");
  const LoadResult result = loadFile(file.path());
  ASSERT_TRUE(result.config.has_value());
  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(result.config->file, file.path());
  EXPECT_EQ(summary(*result.config),
            file.path() + ": ok: 1 source (demo: generator), 1 pipeline (w1: tumbling 1s)");
}

TEST(LoadFile, ErrorsNameTheFile) {
  const TempFile file("sources:\n  demo: { kind: generator, keys: 0 }\npipelines: {}\n");
  const LoadResult result = loadFile(file.path());
  EXPECT_FALSE(result.config.has_value());
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_EQ(
      result.errors[0].toString(),
      file.path() + ":2:34: sources.demo.keys: \"0\" is out of range (expected an integer >= 1)");
  EXPECT_EQ(result.errors[1].toString(),
            file.path() + ":3:12: pipelines: at least one pipeline is required");
}

TEST(LoadFile, MissingFile) {
  const LoadResult result = loadFile("/nonexistent/rivulet.yaml");
  EXPECT_FALSE(result.config.has_value());
  ASSERT_EQ(result.errors.size(), 1u);
  const ConfigError& error = result.errors[0];
  EXPECT_EQ(error.file, "/nonexistent/rivulet.yaml");
  EXPECT_EQ(error.line, 0);
  EXPECT_EQ(error.column, 0);
  EXPECT_EQ(error.path, "");
  EXPECT_EQ(error.toString(), "/nonexistent/rivulet.yaml: cannot open: No such file or directory");
}

TEST(LoadFile, Directory) {
  const LoadResult result = loadFile("/tmp");
  EXPECT_FALSE(result.config.has_value());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].toString(), "/tmp: cannot read: Is a directory");
}

TEST(LoadFile, RefusesHugeInput) {
  const LoadResult result = loadFile("/dev/zero");
  EXPECT_FALSE(result.config.has_value());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].toString(), "/dev/zero: larger than 16 MiB, not a config file");
}

TEST(ConfigError, ToString) {
  EXPECT_EQ((ConfigError{"a.yaml", 14, 13, "x.y", "bad"}).toString(), "a.yaml:14:13: x.y: bad");
  EXPECT_EQ((ConfigError{"a.yaml", 1, 1, "", "bad"}).toString(), "a.yaml:1:1: bad");
  EXPECT_EQ((ConfigError{"a.yaml", 0, 0, "", "bad"}).toString(), "a.yaml: bad");
}

}  // namespace
}  // namespace rivulet::config
