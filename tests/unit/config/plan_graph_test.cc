// Pipelines reading pipelines (`from:` naming a pipeline): the plan the loader and
// config/plan_graph.h make of them (tiers, result fields, `window: upstream`, the results
// streams) and the exact message of every mistake, cycles included.
#include "config/plan_graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/loader.h"
#include "tests/unit/config/errors_of.h"

namespace rivulet::config {
namespace {

using ::testing::ElementsAre;

constexpr std::string_view kSources =
    "sources:\n"
    "  trades:\n"
    "    kind: file\n"
    "    path: /dev/null\n"
    "    fields: {ts: number, sym: string, px: number, qty: number}\n"
    "pipelines:\n";

// Written downstream first: the loader reads a pipeline after the one it reads.
constexpr std::string_view kChain =
    "  overall:\n"
    "    from: per_band\n"
    "    window: upstream\n"
    "    aggregates: {bands: count(), volume: sum(volume)}\n"
    "  per_band:\n"
    "    from: per_sym\n"
    "    group_by:\n"
    "      - band: floor(volume / 100)\n"
    "    window: {hopping: {size: 4s, slide: 2s}}\n"
    "    aggregates: {volume: sum(volume), best: max(vwap), top: \"top_k(sym, 3)\"}\n"
    "    where: trades > 1 and window_end > 0\n"
    "  per_sym:\n"
    "    from: trades\n"
    "    group_by: [sym]\n"
    "    window: {tumbling: 1s}\n"
    "    aggregates:\n"
    "      volume: sum(qty)\n"
    "      vwap: sum(px * qty) / sum(qty)\n"
    "      trades: count()\n"
    "    publish: false\n";

Config load(std::string_view pipelines) {
  const LoadResult result = loadString(std::string(kSources) + std::string(pipelines), "t.yaml");
  for (const ConfigError& e : result.errors) ADD_FAILURE() << e.toString();
  return result.config.value_or(Config{});
}

TEST(PlanGraph, TiersFollowWhatEachPipelineReads) {
  const Config config = load(kChain);
  ASSERT_EQ(config.pipelines.size(), 3u);
  // Config order is kept.
  EXPECT_EQ(config.pipelines[0].name, "overall");
  EXPECT_THAT(pipelineTiers(config), ElementsAre(2, 1, 0));
  EXPECT_THAT(upstreamsOf(config, config.pipelines[0]), ElementsAre(&config.pipelines[1]));
  EXPECT_TRUE(upstreamsOf(config, config.pipelines[2]).empty());
  EXPECT_TRUE(isRead(config, config.pipelines[2]));
  EXPECT_FALSE(isRead(config, config.pipelines[0]));
  EXPECT_FALSE(config.pipelines[2].publish);
  EXPECT_TRUE(config.pipelines[1].publish);
}

TEST(PlanGraph, WindowUpstreamIsATumblingWindowOfTheUpstreamSlide) {
  const Config config = load(kChain);
  ASSERT_EQ(config.pipelines.size(), 3u);
  EXPECT_EQ(config.pipelines[0].window.kind, WindowKind::kTumbling);
  EXPECT_EQ(config.pipelines[0].window.size, 2'000'000'000);
  EXPECT_EQ(config.pipelines[0].window.slide, 2'000'000'000);
}

TEST(PlanGraph, ResultFieldsAreKeysValuesAndTheWindowWithoutHiddenOrTopK) {
  const Config config = load(kChain);
  ASSERT_EQ(config.pipelines.size(), 3u);
  EXPECT_THAT(resultFields(config.pipelines[2]),
              ElementsAre("sym", "volume", "trades", "vwap", "window_start", "window_end"));
  EXPECT_THAT(resultFields(config.pipelines[1]),
              ElementsAre("band", "volume", "best", "window_start", "window_end"));
}

TEST(PlanGraph, ResultStreamsFollowTheSourcesOnce) {
  const Config config = load(kChain);
  const Config streams = withResultStreams(config);
  ASSERT_EQ(streams.sources.size(), 3u);
  EXPECT_EQ(streams.sources[1].name, "per_band");
  EXPECT_EQ(streams.sources[2].name, "per_sym");
  EXPECT_TRUE(isResultStream(streams.sources[2]));
  EXPECT_FALSE(isResultStream(streams.sources[0]));
  // A config with its streams is its own: plans compile against either.
  EXPECT_EQ(withResultStreams(streams), streams);
  EXPECT_THAT(pipelineTiers(streams), ElementsAre(2, 1, 0));
}

TEST(PlanGraph, ACycleIsReportedAtEachFromWithThePath) {
  EXPECT_THAT(errorsOf(std::string(kSources) + "  a:\n"
                                               "    from: b\n"
                                               "    window: {tumbling: 1s}\n"
                                               "    aggregates: {n: count()}\n"
                                               "  b:\n"
                                               "    from: a\n"
                                               "    window: {tumbling: 1s}\n"
                                               "    aggregates: {n: count()}\n"
                                               "  c:\n"
                                               "    from: a\n"
                                               "    window: {tumbling: 1s}\n"
                                               "    aggregates: {n: count()}\n"),
              ElementsAre("t.yaml:8:11: pipelines.a.from: pipelines read each other in a cycle: "
                          "\"a\" reads \"b\" reads \"a\"",
                          "t.yaml:12:11: pipelines.b.from: pipelines read each other in a cycle: "
                          "\"b\" reads \"a\" reads \"b\"",
                          "t.yaml:16:11: pipelines.c.from: reads a cycle of pipelines: "
                          "\"a\" reads \"b\" reads \"a\""));
}

TEST(PlanGraph, APipelineReadingItselfIsACycle) {
  EXPECT_THAT(errorsOf(std::string(kSources) + "  a:\n"
                                               "    from: a\n"
                                               "    window: {tumbling: 1s}\n"
                                               "    aggregates: {n: count()}\n"),
              ElementsAre("t.yaml:8:11: pipelines.a.from: pipelines read each other in a cycle: "
                          "\"a\" reads \"a\""));
}

TEST(PlanGraph, MistakesAreReportedWhereTheyAre) {
  EXPECT_THAT(
      errorsOf(std::string(kSources) + "  up:\n"                             // 7
                                       "    from: trades\n"                  // 8
                                       "    group_by: [sym]\n"               // 9
                                       "    window: {tumbling: 1s}\n"        // 10
                                       "    aggregates: {n: count()}\n"      // 11
                                       "  mixed:\n"                          // 12
                                       "    from: [trades, up]\n"            // 13
                                       "    window: {tumbling: 1s}\n"        // 14
                                       "    aggregates: {n: count()}\n"      // 15
                                       "  typo:\n"                           // 16
                                       "    from: upp\n"                     // 17
                                       "    window: {tumbling: 1s}\n"        // 18
                                       "    aggregates: {n: count()}\n"      // 19
                                       "  field:\n"                          // 20
                                       "    from: up\n"                      // 21
                                       "    window: upstream\n"              // 22
                                       "    aggregates: {n: sum(qty)}\n"     // 23
                                       "  sugar:\n"                          // 24
                                       "    from: trades\n"                  // 25
                                       "    window: upstream\n"              // 26
                                       "    aggregates: {n: count()}\n"      // 27
                                       "  unread:\n"                         // 28
                                       "    from: trades\n"                  // 29
                                       "    window: {tumbling: 1s}\n"        // 30
                                       "    aggregates: {n: count()}\n"      // 31
                                       "    publish: false\n"                // 32
                                       "  sessions:\n"                       // 33
                                       "    from: trades\n"                  // 34
                                       "    group_by: [sym]\n"               // 35
                                       "    window: {session: {gap: 1s}}\n"  // 36
                                       "    aggregates: {n: count()}\n"      // 37
                                       "  ranked:\n"                         // 38
                                       "    from: trades\n"                  // 39
                                       "    group_by: [sym]\n"               // 40
                                       "    window: {tumbling: 1s}\n"        // 41
                                       "    aggregates: {n: count()}\n"      // 42
                                       "    top: {n: 1, by: n}\n"            // 43
                                       "  reads_sessions:\n"                 // 44
                                       "    from: sessions\n"                // 45
                                       "    window: {tumbling: 1s}\n"        // 46
                                       "    aggregates: {n: count()}\n"      // 47
                                       "  reads_ranked:\n"                   // 48
                                       "    from: ranked\n"                  // 49
                                       "    window: {tumbling: 1s}\n"        // 50
                                       "    aggregates: {n: count()}\n"),    // 51
      ElementsAre(
          "t.yaml:13:20: pipelines.mixed.from[1]: pipeline \"up\" must be the only entry of from: "
          "a pipeline reads one pipeline's results, or sources",
          "t.yaml:17:11: pipelines.typo.from: \"upp\" is not a source or a pipeline (did you "
          "mean \"up\"?)",
          "t.yaml:23:21: pipelines.field.aggregates.n: \"qty\" is not a field of the results of "
          "pipeline \"up\" (fields: sym, n, window_start, window_end)",
          "t.yaml:26:13: pipelines.sugar.window: window: upstream needs from: to name a pipeline",
          "t.yaml:32:14: pipelines.unread.publish: publish: false, and no pipeline reads "
          "\"unread\": its results would go nowhere",
          "t.yaml:45:11: pipelines.reads_sessions.from: pipeline \"sessions\" cannot be read: "
          "its session windows end at each key's own time (read a tumbling or hopping pipeline)",
          "t.yaml:49:11: pipelines.reads_ranked.from: pipeline \"ranked\" cannot be read: the "
          "publisher ranks its results (top:) after every stage has fired the window; read the "
          "pipeline it ranks"));
}

TEST(PlanGraph, AChainLongerThanEightTiersIsRefused) {
  std::string yaml(kSources);
  yaml += "  p0:\n    from: trades\n    window: {tumbling: 1s}\n    aggregates: {n: count()}\n";
  for (int i = 1; i <= 8; ++i) {
    yaml += "  p" + std::to_string(i) + ":\n    from: p" + std::to_string(i - 1) +
            "\n    window: upstream\n    aggregates: {n: count()}\n";
  }
  EXPECT_THAT(errorsOf(yaml),
              ElementsAre("t.yaml:40:11: pipelines.p8.from: a chain of more than 8 pipelines "
                          "reading pipelines (each runs on stages of its own)"));
}

}  // namespace
}  // namespace rivulet::config
