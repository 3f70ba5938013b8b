// Live reload (SIGHUP) of the real daemon following a growing file. A pipeline the new file keeps
// unchanged keeps its window state across the reload: the window open at the reload is published
// once, final, with the events from both sides of it. A removed pipeline, and the old form of a
// changed one, publish their open windows as partial at the reload; a changed or added pipeline
// aggregates the events after it. An invalid file, or one changing what needs a restart, leaves
// the running configuration as it was.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <random>
#include <tuple>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kBase = 1'700'000'000'000;

const std::vector<AggregateSpec> kCountSum = {{"n", Agg::kCount}, {"total", Agg::kSum}};
const std::vector<AggregateSpec> kCount = {{"n", Agg::kCount}};

std::string head(const TempDir& dir, int stages = 2) {
  return daemonYaml(dir, {.stages = stages}) +
         "sources:\n  tail:\n    kind: file\n    path: " + dir.file("in.jsonl") +
         "\n    follow: true\n    time: {field: ts, unit: ms}\npipelines:\n";
}

const char* const kKeep =
    "  keep:\n"
    "    from: tail\n"
    "    group_by: [sym]\n"
    "    window: {tumbling: 1s}\n"
    "    aggregates: {n: count(), total: sum(px)}\n";

std::string before(const TempDir& dir) {
  return head(dir) + kKeep +
         "  drop:\n"
         "    from: tail\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates: {n: count()}\n"
         "  change:\n"
         "    from: tail\n"
         "    group_by: [sym]\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates: {n: count()}\n";
}

// keep as it was (written otherwise: the same definition), drop gone, change with another
// aggregate, added new and first (the kept pipelines move to other indices), keyed by a field
// nothing read before (the parser's field list changes).
std::string after(const TempDir& dir) {
  return head(dir) +
         "  added:\n"
         "    from: [tail]\n"
         "    group_by: [venue]\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates: {n: count(), total: sum(px)}\n"
         "  change:\n"
         "    from: tail\n"
         "    group_by: [sym]\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates: {n: count(), total: sum(px)}\n"
         "  keep:\n"
         "    from: [tail]\n"
         "    group_by: [sym]\n"
         "    window: {tumbling: 1000ms}\n"
         "    aggregates:\n"
         "      n: count()\n"
         "      total: sum(px)\n";
}

// Events with times in [from_ms, to_ms) after kBase, one every 7 ms, appended to the file and
// added to each reference; returns the latest time.
std::int64_t appendEvents(const TempDir& dir, std::int64_t from_ms, std::int64_t to_ms,
                          std::mt19937_64& rng, const std::vector<WindowReference*>& refs,
                          std::int64_t& events) {
  static const std::vector<std::string> kSymbols = {"AAPL", "MSFT", "GOOG"};
  static const std::vector<std::string> kVenues = {"XNAS", "XNYS"};
  std::string text;
  std::int64_t latest = 0;
  for (std::int64_t t = from_ms; t < to_ms; t += 7) {
    const std::int64_t ts = kBase + t;
    const std::string& sym = kSymbols[rng() % kSymbols.size()];
    const std::string& venue = kVenues[rng() % kVenues.size()];
    const double px = static_cast<double>(rng() % 10000) / 4;  // exact in binary
    char number[32];
    std::snprintf(number, sizeof number, "%.2f", px);
    text += "{\"ts\":" + std::to_string(ts) + ",\"venue\":\"" + venue + "\",\"sym\":\"" + sym +
            "\",\"px\":" + number + "}\n";
    for (WindowReference* ref : refs) {
      std::vector<std::string> key;
      for (const std::string& field : ref->groupBy()) key.push_back(field == "venue" ? venue : sym);
      ref->add(ts, key, px);
    }
    latest = ts;
    ++events;
  }
  appendFile(dir.file("in.jsonl"), text);
  return latest;
}

std::vector<Result> only(const std::vector<Result>& results, std::size_t from, std::size_t to) {
  return {results.begin() + static_cast<std::ptrdiff_t>(from),
          results.begin() + static_cast<std::ptrdiff_t>(to)};
}

// Waits until the source has read `events` in all.
::testing::AssertionResult readAll(const Daemon& daemon, std::int64_t events) {
  std::string error;
  const auto read = daemon.scrapeUntil(
      [&](const Metrics& scraped) {
        return scraped.valueOr0("rivulet_source_events_total", {{"source", "tail"}}) ==
               static_cast<double>(events);
      },
      30s, &error);
  if (!read) return ::testing::AssertionFailure() << error;
  const double got = read->valueOr0("rivulet_source_events_total", {{"source", "tail"}});
  if (got != static_cast<double>(events)) {
    return ::testing::AssertionFailure() << "read " << got << " of " << events << " events";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult reloaded(const Daemon& daemon, const char* result, double times) {
  std::string error;
  const auto m = daemon.scrapeUntil(
      [&](const Metrics& scraped) {
        return scraped.valueOr0("rivulet_config_reloads_total", {{"result", result}}) >= times;
      },
      30s, &error);
  if (!m) return ::testing::AssertionFailure() << error;
  const double got = m->valueOr0("rivulet_config_reloads_total", {{"result", result}});
  if (got != times) {
    return ::testing::AssertionFailure()
           << "reloads " << result << ": " << got << ", not " << times;
  }
  return ::testing::AssertionSuccess();
}

// The daemon following an empty file on before(), with a subscriber it counts.
using DaemonReload = FollowingDaemonTest<before>;

TEST_F(DaemonReload, KeptPipelinesKeepTheirStateOthersAreFlushedAddedOrRestarted) {
  const TempDir& dir = dir_;
  Daemon& daemon = *daemon_;
  Subscriber& subscriber = *subscriber_;
  std::string error;

  // Before the reload: seconds 0 and 1 and half of second 2.
  std::mt19937_64 rng(7);
  WindowReference keep("keep", {"sym"}, 1000, 1000);
  WindowReference drop("drop", {}, 1000, 1000);
  WindowReference change_old("change", {"sym"}, 1000, 1000);
  std::int64_t events = 0;
  const std::int64_t wm_before =
      appendEvents(dir, 0, 2500, rng, {&keep, &drop, &change_old}, events);
  ASSERT_TRUE(readAll(daemon, events));
  const std::size_t finals_before =
      keep.countFired(wm_before) + drop.countFired(wm_before) + change_old.countFired(wm_before);
  ASSERT_TRUE(subscriber.receiveUntil(
      [&](const std::vector<Message>&) {
        return parseResults(subscriber.messages()).size() >= finals_before;
      },
      30s));

  writeFile(daemon.configPath(), after(dir));
  ASSERT_TRUE(daemon.process().signal(SIGHUP));
  ASSERT_TRUE(reloaded(daemon, "applied", 1));
  // The windows drop and change had open went out as partial at the reload, before anything of
  // the new pipelines (which have had no event yet).
  const std::size_t partials_at_reload =
      drop.countFired(wm_before, false) + change_old.countFired(wm_before, false);
  ASSERT_TRUE(subscriber.receiveUntil(
      [&](const std::vector<Message>&) {
        return parseResults(subscriber.messages()).size() >= finals_before + partials_at_reload;
      },
      30s));
  const std::size_t split = parseResults(subscriber.messages()).size();
  EXPECT_EQ(split, finals_before + partials_at_reload);

  // After it: the rest of second 2, seconds 3 and 4 and part of 5.
  WindowReference change_new("change", {"sym"}, 1000, 1000);
  // Keyed by a field no pipeline read before: the source's field list changes at the reload.
  WindowReference added("added", {"venue"}, 1000, 1000);
  const std::int64_t wm_end =
      appendEvents(dir, 2503, 5400, rng, {&keep, &change_new, &added}, events);
  ASSERT_TRUE(readAll(daemon, events));
  const std::size_t finals_after = keep.countFired(wm_end) - keep.countFired(wm_before) +
                                   change_new.countFired(wm_end) + added.countFired(wm_end);
  ASSERT_TRUE(subscriber.receiveUntil(
      [&](const std::vector<Message>&) {
        return parseResults(subscriber.messages()).size() >= split + finals_after;
      },
      30s));

  const auto metrics = daemon.scrape(&error);
  ASSERT_TRUE(metrics) << error;
  // keep's counters went on through the reload; drop's series are gone.
  EXPECT_EQ(metrics->valueOr0("rivulet_pipeline_events_total", {{"pipeline", "keep"}}),
            static_cast<double>(events));
  EXPECT_FALSE(metrics->value("rivulet_pipeline_events_total", {{"pipeline", "drop"}}));
  EXPECT_TRUE(metrics->value("rivulet_pipeline_events_total", {{"pipeline", "added"}}));
  EXPECT_EQ(metrics->valueOr0("rivulet_config_last_reload_successful"), 1);

  ASSERT_TRUE(daemon.process().signal(SIGINT));
  const auto exit_code = daemon.process().wait(30s);
  ASSERT_TRUE(exit_code.has_value());
  EXPECT_EQ(*exit_code, 0);
  const std::size_t partials_at_stop = keep.countFired(wm_end, false) +
                                       change_new.countFired(wm_end, false) +
                                       added.countFired(wm_end, false);
  subscriber.receiveUntil(
      [&](const std::vector<Message>&) {
        return parseResults(subscriber.messages()).size() >=
               split + finals_after + partials_at_stop;
      },
      10s);
  subscriber.receiveFor(200ms);
  const std::vector<Result> results = parseResults(subscriber.messages());
  EXPECT_EQ(results.size(), split + finals_after + partials_at_stop);
  expectSeqWithoutGaps(results);  // change's seq goes on across its two forms

  const std::vector<Result> early = only(results, 0, split);
  const std::vector<Result> late = only(results, split, results.size());
  const auto closed_before = [&](const WindowId& w) { return w.end <= wm_before; };
  const auto open_before = [&](const WindowId& w) { return w.end > wm_before; };
  expectResultsMatch(early, "final", keep, kCountSum, closed_before);
  expectResultsMatch(early, "partial", keep, kCountSum, [](const WindowId&) { return false; });
  expectResultsMatch(early, "final", drop, kCount, closed_before);
  expectResultsMatch(early, "partial", drop, kCount, open_before);
  expectResultsMatch(early, "final", change_old, kCount, closed_before);
  expectResultsMatch(early, "partial", change_old, kCount, open_before);

  // keep's window [2 s, 3 s) holds the events from both sides of the reload.
  const auto closed_after = [&](const WindowId& w) { return w.end > wm_before && w.end <= wm_end; };
  const auto open_after = [&](const WindowId& w) { return w.end > wm_end; };
  expectResultsMatch(late, "final", keep, kCountSum, closed_after);
  expectResultsMatch(late, "partial", keep, kCountSum, open_after);
  const auto closed = [&](const WindowId& w) { return w.end <= wm_end; };
  expectResultsMatch(late, "final", change_new, kCountSum, closed);
  expectResultsMatch(late, "partial", change_new, kCountSum, open_after);
  expectResultsMatch(late, "final", added, kCountSum, closed);
  expectResultsMatch(late, "partial", added, kCountSum, open_after);
  for (const Result& r : late) EXPECT_NE(r.pipeline, "drop") << r.payload;
}

TEST_F(DaemonReload, InvalidFileOrRestartOnlyChangeKeepsTheRunningConfiguration) {
  const TempDir& dir = dir_;
  Daemon& daemon = *daemon_;
  Subscriber& subscriber = *subscriber_;
  std::string error;

  // An unknown aggregate function: refused with the file, line and column.
  std::string invalid = before(dir);
  invalid.replace(invalid.find("n: count()}\n  change"), 7, "n: cnt()");
  writeFile(daemon.configPath(), invalid);
  ASSERT_TRUE(daemon.process().signal(SIGHUP));
  ASSERT_TRUE(reloaded(daemon, "failed", 1));
  EXPECT_THAT(daemon.log(), HasSubstr(daemon.configPath() + ":"));
  EXPECT_THAT(daemon.log(), HasSubstr("the running configuration stays"));
  const auto after_invalid = daemon.scrape(&error);
  ASSERT_TRUE(after_invalid) << error;
  EXPECT_EQ(after_invalid->value("rivulet_config_last_reload_successful"), 0);

  // Valid, but the number of stages needs a restart.
  writeFile(daemon.configPath(), head(dir, 3) + kKeep);
  ASSERT_TRUE(daemon.process().signal(SIGHUP));
  ASSERT_TRUE(reloaded(daemon, "failed", 2));
  EXPECT_THAT(daemon.log(), HasSubstr("needs a restart (daemon.stages)"));
  EXPECT_EQ(
      daemon.scrape(&error)->valueOr0("rivulet_config_reloads_total", {{"result", "applied"}}), 0);

  // The result socket's HWM is set when it is made: a change is refused, not silently ignored.
  std::string hwm = before(dir);
  hwm.replace(hwm.find("  stages: 2\n"), 0, "  publish_hwm: 5000\n");
  writeFile(daemon.configPath(), hwm);
  ASSERT_TRUE(daemon.process().signal(SIGHUP));
  ASSERT_TRUE(reloaded(daemon, "failed", 3));
  EXPECT_THAT(daemon.log(), HasSubstr("needs a restart (daemon.publish_hwm)"));

  // A pipeline read by another has a stream of results on stages of its own, which a reload
  // does not add.
  writeFile(daemon.configPath(), before(dir) +
                                     "  per_second:\n"
                                     "    from: keep\n"
                                     "    window: upstream\n"
                                     "    aggregates: {symbols: count()}\n");
  ASSERT_TRUE(daemon.process().signal(SIGHUP));
  ASSERT_TRUE(reloaded(daemon, "failed", 4));
  EXPECT_THAT(daemon.log(),
              HasSubstr("needs a restart (pipelines: the pipelines others read change (keep): "
                        "their streams of results have rings and stages of their own)"));

  // The pipelines of the first file still run, all three of them.
  std::mt19937_64 rng(11);
  WindowReference keep("keep", {"sym"}, 1000, 1000);
  WindowReference drop("drop", {}, 1000, 1000);
  WindowReference change("change", {"sym"}, 1000, 1000);
  std::int64_t events = 0;
  const std::int64_t wm = appendEvents(dir, 0, 2500, rng, {&keep, &drop, &change}, events);
  ASSERT_TRUE(readAll(daemon, events));
  const std::size_t finals = keep.countFired(wm) + drop.countFired(wm) + change.countFired(wm);
  ASSERT_TRUE(subscriber.receiveUntil(
      [&](const std::vector<Message>&) {
        return parseResults(subscriber.messages()).size() >= finals;
      },
      30s));
  const std::vector<Result> results = parseResults(subscriber.messages());
  const auto closed = [&](const WindowId& w) { return w.end <= wm; };
  expectResultsMatch(results, "final", keep, kCountSum, closed);
  expectResultsMatch(results, "final", drop, kCount, closed);
  expectResultsMatch(results, "final", change, kCount, closed);
  EXPECT_TRUE(daemon.process().running());
}

// A plan of two tiers: per_key, read by top.
std::string tiered(const TempDir& dir) {
  return head(dir) + kKeep +
         "  top:\n"
         "    from: keep\n"
         "    window: upstream\n"
         "    aggregates: {keys: count()}\n";
}

using DaemonTieredReload = FollowingDaemonTest<tiered>;

// keep (read by others) stays as it is; its reader top changes and a second reader is added: the
// reload applies, keep's window open across it is published once with the events of both sides,
// and from then on the readers take keep's results in their new form.
TEST_F(DaemonTieredReload, ReadersOfAKeptPipelineChangeAndItKeepsItsState) {
  Daemon& daemon = *daemon_;
  Subscriber& subscriber = *subscriber_;
  std::mt19937_64 rng(5);
  WindowReference keep("keep", {"sym"}, 1000, 1000);
  std::int64_t events = 0;
  const std::int64_t wm_before = appendEvents(dir_, 0, 2500, rng, {&keep}, events);
  ASSERT_TRUE(readAll(daemon, events));
  // keep's windows of seconds 0 and 1, and top's of them.
  const std::size_t before_reload = keep.countFired(wm_before) + 2;
  ASSERT_TRUE(subscriber.receiveUntil(
      [&](const std::vector<Message>&) {
        return parseResults(subscriber.messages()).size() >= before_reload;
      },
      30s));

  writeFile(daemon.configPath(), head(dir_) + kKeep +
                                     "  volume:\n"
                                     "    from: keep\n"
                                     "    window: upstream\n"
                                     "    aggregates: {events: sum(n)}\n"
                                     "  top:\n"
                                     "    from: keep\n"
                                     "    window: upstream\n"
                                     "    aggregates: {keys: count(), most: max(n)}\n");
  ASSERT_TRUE(daemon.process().signal(SIGHUP));
  ASSERT_TRUE(reloaded(daemon, "applied", 1));
  EXPECT_THAT(daemon.log(), HasSubstr("keeping keep; adding volume; changing"));

  const std::int64_t wm_end = appendEvents(dir_, 2503, 5400, rng, {&keep}, events);
  ASSERT_TRUE(readAll(daemon, events));
  // Seconds 2, 3 and 4: keep's windows, and one of top's and volume's each.
  const std::size_t all = keep.countFired(wm_end) + 5 + 3;
  ASSERT_TRUE(subscriber.receiveUntil(
      [&](const std::vector<Message>&) {
        return parseResults(subscriber.messages()).size() >= all;
      },
      30s));
  const std::vector<Result> results = parseResults(subscriber.messages());
  EXPECT_EQ(results.size(), all);
  for (const Result& r : results) EXPECT_EQ(r.kind, "final") << r.payload;
  expectResultsMatch(results, "final", keep, kCountSum,
                     [&](const WindowId& w) { return w.end <= wm_end; });
  // Per second: keep's keys, its most events of one key, and its events.
  std::map<std::int64_t, std::tuple<std::int64_t, std::int64_t, std::int64_t>> want;
  for (const auto& [id, state] : keep.windows()) {
    if (id.end > wm_end) continue;
    auto& [keys, most, total] = want[id.start];
    ++keys;
    most = std::max(most, state.count);
    total += state.count;
  }
  std::map<std::int64_t, int> top_before, top_after, volume;
  for (const Result& r : results) {
    const auto& [keys, most, total] = want[r.start];
    if (r.pipeline == "top") {
      EXPECT_EQ(r.values.at("keys").integer, keys) << r.payload;
      const bool new_form = r.values.contains("most");
      ++(new_form ? top_after : top_before)[r.start];
      if (new_form) {
        EXPECT_EQ(r.values.at("most").integer, most) << r.payload;
      }
    } else if (r.pipeline == "volume") {
      EXPECT_EQ(r.values.at("events").integer, total) << r.payload;
      ++volume[r.start];
    }
  }
  const std::int64_t s = kBase;
  EXPECT_EQ(top_before, (std::map<std::int64_t, int>{{s, 1}, {s + 1000, 1}}));
  const std::map<std::int64_t, int> after = {{s + 2000, 1}, {s + 3000, 1}, {s + 4000, 1}};
  EXPECT_EQ(top_after, after) << "the window open at the reload is read by the new form";
  EXPECT_EQ(volume, after);
}

}  // namespace
}  // namespace rivulet::testutil
