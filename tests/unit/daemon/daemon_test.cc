// The daemon's sequence in-process, over real sockets (results on ipc:// in a temp dir, metrics
// scraped over HTTP from 127.0.0.1:0): a bounded input runs to its end and publishes every window
// as final; a stop publishes the open windows as partial, or, with checkpoints, takes a last
// checkpoint that a second Daemon resumes from; a bad checkpoint stops the start unless it is to
// be discarded; a reload applies a new file and refuses an invalid one. Signals come from a
// script that the daemon's own loop runs, so nothing here needs a second thread.
#include "daemon/daemon.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "config/loader.h"
#include "daemon/checkpoints/checkpoint_file.h"
#include "tests/integration/harness/reference.h"
#include "tests/support/files.h"
#include "tests/support/http.h"

namespace rivulet::daemon {
namespace {

using ::testing::HasSubstr;
using namespace testutil;
using namespace std::chrono_literals;

constexpr std::int64_t kBase = 1'700'000'000'000;  // ms, on a whole second
// The sources' watermark delay: events come at most this much out of order, so none is late.
constexpr std::int64_t kDelayMs = 500;
const std::vector<AggregateSpec> kAggregates = {{"n", Agg::kCount}, {"total", Agg::kSum}};

// A SignalSource driven by the daemon's own loop: at each turn the next step's condition is
// checked; once it holds, the step's action runs and its signal (if any) is delivered. Past the
// deadline the script gives up with a failure and stops the daemon, then abandons it.
class ScriptedSignals final : public SignalSource {
 public:
  struct Step {
    std::string what;  // for the failure message
    std::function<bool()> when;
    std::function<void()> then;
    int signal = 0;
  };

  explicit ScriptedSignals(std::vector<Step> steps = {})
      : steps_(std::move(steps)), deadline_(std::chrono::steady_clock::now() + 90s) {}

  int wait(std::int64_t timeout_ns) override {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline_) {
      if (gave_up_ == 0) {
        ADD_FAILURE() << (next_ < steps_.size() ? "never came: " + steps_[next_].what
                                                : std::string("the daemon did not finish"));
      }
      if (gave_up_ < 2 && now >= deadline_ + gave_up_ * 30s) {
        ++gave_up_;
        return SIGTERM;
      }
    } else if (next_ < steps_.size() && steps_[next_].when()) {
      Step& step = steps_[next_++];
      if (step.then) step.then();
      return step.signal;
    }
    // Where sigtimedwait would wait for a signal; shorter, so that steps follow each other soon.
    std::this_thread::sleep_for(
        std::min<std::chrono::nanoseconds>(std::chrono::nanoseconds(timeout_ns), 2ms));
    return 0;
  }

  bool done() const { return next_ == steps_.size(); }

 private:
  std::vector<Step> steps_;
  std::size_t next_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  int gave_up_ = 0;
};

// Random events of keys a..e, in time order but for up to 400 ms of jitter (under the delay),
// from `from_ms` on, `per_second` a second, for `seconds`; each also goes into `reference`.
std::string events(std::mt19937_64& random, std::int64_t from_ms, int seconds, int per_second,
                   std::vector<WindowReference*> references) {
  std::string text;
  for (int i = 0; i < seconds * per_second; ++i) {
    const std::int64_t ts =
        from_ms + i * 1000 / per_second + static_cast<std::int64_t>(random() % (kDelayMs - 100));
    const std::string key(1, static_cast<char>('a' + random() % 5));
    const int value = static_cast<int>(random() % 100);
    text += "{\"ts\":" + std::to_string(ts) + ",\"k\":\"" + key +
            "\",\"v\":" + std::to_string(value) + "}\n";
    for (WindowReference* reference : references) reference->add(ts, {key}, value);
  }
  return text;
}

// The latest event time in JSON lines written by events().
std::int64_t latest(const std::string& text) {
  std::int64_t max = 0;
  for (const std::string& line : testutil::splitLines(text)) {
    if (line.empty()) continue;
    max = std::max<std::int64_t>(max, std::stoll(line.substr(6, line.find(',') - 6)));
  }
  return max;
}

std::string pipelineYaml(const std::string& name, const std::string& aggregates) {
  return "  " + name + ":\n    from: in\n    group_by: [k]\n    window: {tumbling: 1s}\n" +
         "    aggregates: {" + aggregates + "}\n";
}

// One file source reading in.jsonl (`follow`: waiting for more at its end), results on ipc://
// and into out.jsonl, metrics on a port of the kernel's choosing; `daemon` adds daemon keys.
std::string configYaml(const TempDir& dir, bool follow, const std::string& daemon = "",
                       const std::string& pipelines = pipelineYaml("counts",
                                                                   "n: count(), "
                                                                   "total: sum(v)")) {
  return "daemon:\n  metrics: 127.0.0.1:0\n  publish: ipc://" + dir.file("results.ipc") +
         "\n  output: " + dir.file("out.jsonl") + "\n  stages: 2\n" + daemon +
         "sources:\n  in:\n    kind: file\n    path: " + dir.file("in.jsonl") +
         "\n    follow: " + (follow ? "true" : "false") +
         "\n    time: {field: ts, unit: ms}\n    watermark: {delay: " + std::to_string(kDelayMs) +
         "ms}\npipelines:\n" + pipelines;
}

config::Config load(const std::string& path) {
  config::LoadResult loaded = config::loadFile(path);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) ADD_FAILURE() << e.toString();
    throw std::runtime_error("the test's config does not load");
  }
  return std::move(*loaded.config);
}

Options optionsFor(const std::string& config_path, bool discard_checkpoint = false) {
  Options options;
  options.config = config_path;
  options.discard_checkpoint = discard_checkpoint;
  return options;
}

testutil::Metrics scrape(std::uint16_t port) {
  std::string error;
  const std::optional<testutil::HttpResponse> response =
      testutil::httpGet(port, "/metrics", &error);
  if (!response || response->status != 200) {
    ADD_FAILURE() << "scrape: " << error;
    return {};
  }
  std::optional<testutil::Metrics> metrics = testutil::Metrics::parse(response->body, &error);
  if (!metrics) ADD_FAILURE() << error;
  return metrics.value_or(testutil::Metrics{});
}

std::vector<Result> readResults(const TempDir& dir) {
  return testutil::parseResults(
      testutil::messagesFromJsonLines(testutil::readFile(dir.file("out.jsonl"))));
}

// Whether a scrape shows `events` counted for `pipeline` and `finals` final results published.
bool caughtUp(const Daemon& daemon, const std::string& pipeline, std::int64_t events,
              std::size_t finals) {
  const testutil::Metrics m = scrape(daemon.metricsPort());
  return m.valueOr0("rivulet_pipeline_events_total", {{"pipeline", pipeline}}) ==
             static_cast<double>(events) &&
         m.valueOr0("rivulet_results_published_total",
                    {{"pipeline", pipeline}, {"kind", "final"}}) == static_cast<double>(finals);
}

TEST(Daemon, BoundedInputRunsToTheEndAndPublishesEveryWindowAsFinal) {
  TempDir dir;
  std::mt19937_64 random(17);
  WindowReference reference("counts", {"k"}, 1000, 1000);
  testutil::writeFile(dir.file("in.jsonl"), events(random, kBase, 8, 500, {&reference}));
  testutil::writeFile(dir.file("rivulet.yaml"), configYaml(dir, false));

  Daemon daemon(optionsFor(dir.file("rivulet.yaml")), load(dir.file("rivulet.yaml")));
  // Every socket is bound before anything runs.
  EXPECT_EQ(daemon.publishEndpoints(),
            std::vector<std::string>{"ipc://" + dir.file("results.ipc")});
  ASSERT_NE(daemon.metricsPort(), 0);
  const testutil::Metrics before = scrape(daemon.metricsPort());
  EXPECT_EQ(before.value("rivulet_source_events_total", {{"source", "in"}}), 0);

  ScriptedSignals no_signals;
  EXPECT_EQ(daemon.run(no_signals), kExitOk);
  EXPECT_FALSE(daemon.abandoned());

  const std::vector<Result> results = readResults(dir);
  EXPECT_EQ(results.size(), reference.windows().size());
  testutil::expectResultsMatch(results, "final", reference, kAggregates,
                               [](const WindowId&) { return true; });
  testutil::expectSeqWithoutGaps(results);
  // The HTTP server is stopped once the run is over.
  std::string error;
  EXPECT_FALSE(testutil::httpGet(daemon.metricsPort(), "/metrics", &error, 1s).has_value());
}

TEST(Daemon, AStopPublishesTheOpenWindowsAsPartial) {
  TempDir dir;
  std::mt19937_64 random(23);
  WindowReference reference("counts", {"k"}, 1000, 1000);
  const std::string input = events(random, kBase, 5, 400, {&reference});
  testutil::writeFile(dir.file("in.jsonl"), input);
  testutil::writeFile(dir.file("rivulet.yaml"), configYaml(dir, true));
  const std::int64_t watermark = latest(input) - kDelayMs;
  const std::size_t finals = reference.countFired(watermark);
  ASSERT_GT(finals, 0u);
  ASSERT_GT(reference.countFired(watermark, false), 0u);

  Daemon daemon(optionsFor(dir.file("rivulet.yaml")), load(dir.file("rivulet.yaml")));
  ScriptedSignals signals({{"every event counted and the windows it closed published",
                            [&] { return caughtUp(daemon, "counts", 2000, finals); },
                            {},
                            SIGTERM}});
  EXPECT_EQ(daemon.run(signals), kExitOk);
  EXPECT_TRUE(signals.done());

  const std::vector<Result> results = readResults(dir);
  EXPECT_EQ(results.size(), reference.windows().size());
  testutil::expectResultsMatch(results, "final", reference, kAggregates,
                               [&](const WindowId& w) { return w.end <= watermark; });
  testutil::expectResultsMatch(results, "partial", reference, kAggregates,
                               [&](const WindowId& w) { return w.end > watermark; });
  testutil::expectSeqWithoutGaps(results);
}

TEST(Daemon, AStopWithCheckpointsTakesALastOneThatTheNextDaemonResumesFrom) {
  TempDir dir;
  std::mt19937_64 random(29);
  // A long interval: the checkpoint the second daemon resumes from is the stop's.
  const std::string checkpoints = "  checkpoint: {dir: " + dir.file("state") + ", interval: 1h}\n";
  testutil::writeFile(dir.file("rivulet.yaml"), configYaml(dir, true, checkpoints));
  WindowReference reference("counts", {"k"}, 1000, 1000);
  const std::string first = events(random, kBase, 4, 400, {&reference});
  testutil::writeFile(dir.file("in.jsonl"), first);
  const std::int64_t first_watermark = latest(first) - kDelayMs;
  {
    Daemon daemon(optionsFor(dir.file("rivulet.yaml")), load(dir.file("rivulet.yaml")));
    ScriptedSignals signals(
        {{"the first part counted and the windows it closed published",
          [&] { return caughtUp(daemon, "counts", 1600, reference.countFired(first_watermark)); },
          {},
          SIGTERM}});
    EXPECT_EQ(daemon.run(signals), kExitOk);
    EXPECT_TRUE(signals.done());
  }
  // The open windows went into the checkpoint, not out as partial.
  const std::vector<Result> stopped = readResults(dir);
  EXPECT_EQ(stopped.size(), reference.countFired(first_watermark));
  for (const Result& r : stopped) EXPECT_EQ(r.kind, "final") << r.payload;
  const config::Config config = load(dir.file("rivulet.yaml"));
  const CheckpointRead read = readCheckpoint(dir.file("state"), checkpointFingerprint(config));
  ASSERT_EQ(read.status, CheckpointRead::Status::kOk) << read.message;

  // The rest of the input, its first window shared with the first part's last; then an event
  // far ahead that closes every window.
  const std::string second = events(random, kBase + 4000, 4, 400, {&reference});
  testutil::appendFile(dir.file("in.jsonl"), second + "{\"ts\":" + std::to_string(kBase + 60'000) +
                                                 ",\"k\":\"z\",\"v\":0}\n");
  reference.add(kBase + 60'000, {"z"}, 0);
  const std::size_t closed = reference.countFired(kBase + 60'000 - kDelayMs);
  {
    Daemon daemon(optionsFor(dir.file("rivulet.yaml")), config);
    ScriptedSignals signals({{"the rest counted and every window but the last published",
                              [&] {
                                return caughtUp(daemon, "counts", 1601,
                                                closed - reference.countFired(first_watermark));
                              },
                              {},
                              SIGTERM}});
    EXPECT_EQ(daemon.run(signals), kExitOk);
    EXPECT_TRUE(signals.done());
  }
  // Every window once, as if there had been one run: the one open at the checkpoint with the
  // events of both parts, and seq going on from the checkpoint's.
  const std::vector<Result> results = readResults(dir);
  EXPECT_EQ(results.size(), closed);
  testutil::expectResultsMatch(results, "final", reference, kAggregates,
                               [&](const WindowId& w) { return w.key[0] != "z"; });
  testutil::expectSeqWithoutGaps(results);
}

TEST(Daemon, ABadCheckpointStopsTheStartUnlessItIsToBeDiscarded) {
  TempDir dir;
  std::mt19937_64 random(31);
  WindowReference reference("counts", {"k"}, 1000, 1000);
  testutil::writeFile(dir.file("in.jsonl"), events(random, kBase, 3, 200, {&reference}));
  testutil::writeFile(dir.file("rivulet.yaml"),
                      configYaml(dir, false, "  checkpoint: {dir: " + dir.file("state") + "}\n"));
  std::filesystem::create_directory(dir.file("state"));
  const std::string checkpoint = checkpointPath(dir.file("state"));
  testutil::writeFile(checkpoint, "not a checkpoint");
  const config::Config config = load(dir.file("rivulet.yaml"));

  try {
    Daemon daemon(optionsFor(dir.file("rivulet.yaml")), config);
    ADD_FAILURE() << "started with a corrupt checkpoint";
  } catch (const StartError& e) {
    EXPECT_THAT(e.what(), HasSubstr("checkpoint " + checkpoint + ": "));
    EXPECT_THAT(e.what(), HasSubstr("start with --discard-checkpoint"));
  }
  EXPECT_EQ(testutil::readFile(checkpoint), "not a checkpoint") << "a refused start changed it";
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.jsonl"))) << "a refused start published";

  Daemon daemon(optionsFor(dir.file("rivulet.yaml"), true), config);
  EXPECT_EQ(testutil::readFile(checkpoint + ".discarded"), "not a checkpoint");
  ScriptedSignals no_signals;
  EXPECT_EQ(daemon.run(no_signals), kExitOk);
  testutil::expectResultsMatch(readResults(dir), "final", reference, kAggregates,
                               [](const WindowId&) { return true; });
}

TEST(Daemon, AStartThatCannotBindSaysWhy) {
  TempDir dir;
  testutil::writeFile(dir.file("in.jsonl"), "");
  testutil::writeFile(dir.file("rivulet.yaml"), configYaml(dir, false));
  Daemon first(optionsFor(dir.file("rivulet.yaml")), load(dir.file("rivulet.yaml")));
  // The same metrics port again.
  testutil::writeFile(dir.file("again.yaml"),
                      "daemon:\n  metrics: 127.0.0.1:" + std::to_string(first.metricsPort()) +
                          "\n  publish: ipc://" + dir.file("again.ipc") +
                          "\nsources: {in: {kind: file, path: " + dir.file("in.jsonl") +
                          "}}\npipelines: {p: {from: in, window: {tumbling: 1s}, "
                          "aggregates: {n: count()}}}\n");
  try {
    Daemon second(optionsFor(dir.file("again.yaml")), load(dir.file("again.yaml")));
    ADD_FAILURE() << "two daemons on one port";
  } catch (const StartError& e) {
    EXPECT_THAT(e.what(), HasSubstr("metrics: "));
    EXPECT_THAT(e.what(), HasSubstr(std::to_string(first.metricsPort())));
  }
}

TEST(Daemon, AReloadAppliesANewFileAndRefusesAnInvalidOne) {
  TempDir dir;
  std::mt19937_64 random(37);
  const std::string path = dir.file("rivulet.yaml");
  testutil::writeFile(path, configYaml(dir, true));
  WindowReference counts("counts", {"k"}, 1000, 1000);
  WindowReference sums("sums", {"k"}, 1000, 1000);
  const std::string first = events(random, kBase, 3, 200, {&counts});
  testutil::writeFile(dir.file("in.jsonl"), first);
  const std::string added = pipelineYaml("counts", "n: count(), total: sum(v)") +
                            pipelineYaml("sums", "n: count(), total: sum(v)");
  // Events after the reload only, from a window after the first part's: the added pipeline sees
  // only them.
  const std::string second = events(random, kBase + 4000, 3, 200, {&counts, &sums});
  const auto reloads = [&](const Daemon& daemon, const char* result) {
    return scrape(daemon.metricsPort())
        .valueOr0("rivulet_config_reloads_total", {{"result", result}});
  };

  Daemon daemon(optionsFor(path), load(path));
  const std::size_t first_finals = counts.countFired(latest(first) - kDelayMs);
  const std::int64_t second_watermark = latest(second) - kDelayMs;
  ScriptedSignals signals({
      {"the first part counted", [&] { return caughtUp(daemon, "counts", 600, first_finals); },
       [&] { testutil::writeFile(path, "pipelines: ["); }, SIGHUP},
      {"the invalid file refused", [&] { return reloads(daemon, "failed") == 1; },
       [&] { testutil::writeFile(path, configYaml(dir, true, "", added)); }, SIGHUP},
      {"the new file applied", [&] { return reloads(daemon, "applied") == 1; },
       [&] { testutil::appendFile(dir.file("in.jsonl"), second); }},
      {"the second part counted by both",
       [&] {
         return caughtUp(daemon, "counts", 1200, counts.countFired(second_watermark)) &&
                caughtUp(daemon, "sums", 600, sums.countFired(second_watermark));
       },
       {},
       SIGTERM},
  });
  EXPECT_EQ(daemon.run(signals), kExitOk);
  EXPECT_TRUE(signals.done());

  const std::vector<Result> results = readResults(dir);
  for (const WindowReference* reference : {&counts, &sums}) {
    testutil::expectResultsMatch(results, "final", *reference, kAggregates,
                                 [&](const WindowId& w) { return w.end <= second_watermark; });
    testutil::expectResultsMatch(results, "partial", *reference, kAggregates,
                                 [&](const WindowId& w) { return w.end > second_watermark; });
  }
  EXPECT_EQ(results.size(), counts.windows().size() + sums.windows().size());
  testutil::expectSeqWithoutGaps(results);
}

}  // namespace
}  // namespace rivulet::daemon
