// `join:` (window joins): what the loader makes of it — the sides, the results' key and values,
// the plan's inputs — and the exact message of every mistake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/loader.h"
#include "config/plan_graph.h"
#include "tests/unit/config/errors_of.h"

namespace rivulet::config {
namespace {

using ::testing::ElementsAre;

constexpr std::string_view kHead =
    "sources:\n"
    "  events:\n"
    "    kind: file\n"
    "    path: /dev/null\n"
    "  other:\n"
    "    kind: file\n"
    "    path: /dev/null\n"
    "pipelines:\n"
    "  persons:\n"
    "    from: events\n"
    "    group_by: [id, name]\n"
    "    window: {tumbling: 10s}\n"
    "    aggregates: {n: count()}\n"
    "    publish: false\n"
    "  sellers:\n"
    "    from: events\n"
    "    group_by: [seller]\n"
    "    window: {tumbling: 10s}\n"
    "    aggregates: {auctions: count()}\n"
    "    publish: false\n";  // 20 lines

std::vector<std::string> names(const std::vector<GroupBySpec>& specs) {
  std::vector<std::string> out;
  for (const GroupBySpec& s : specs) out.push_back(s.name);
  return out;
}

TEST(JoinSection, TheSidesMakeTheInputsKeyAndValues) {
  const LoadResult result =
      loadString(std::string(kHead) +
                     "  q8:\n"
                     "    join:\n"
                     "      type: left\n"
                     "      left: {from: persons, key: [id], fields: [name]}\n"
                     "      right:\n"
                     "        from: sellers\n"
                     "        key: [seller]\n"
                     "        fields: [{sold: auctions}]\n"
                     "        where: auctions > 1\n"
                     "    window: upstream\n",
                 "t.yaml");
  for (const ConfigError& e : result.errors) ADD_FAILURE() << e.toString();
  ASSERT_TRUE(result.config.has_value());
  const PipelineConfig& q8 = result.config->pipelines[2];
  ASSERT_TRUE(q8.join.has_value());
  EXPECT_TRUE(q8.join->left_outer);
  EXPECT_THAT(q8.from, ElementsAre("persons", "sellers"));
  EXPECT_THAT(names(q8.group_by), ElementsAre("id"));
  EXPECT_THAT(names(q8.join->left.fields), ElementsAre("name"));
  EXPECT_THAT(names(q8.join->right.fields), ElementsAre("sold"));
  EXPECT_TRUE(q8.join->right.where.has_value());
  EXPECT_TRUE(q8.aggregates.empty());
  EXPECT_EQ(q8.window.size, 10'000'000'000);
  EXPECT_THAT(pipelineTiers(*result.config), ElementsAre(0, 0, 1));
  EXPECT_EQ(upstreamsOf(*result.config, q8).size(), 2u);
}

TEST(JoinSection, BothSidesMayReadOneSource) {
  const LoadResult result = loadString(
      "sources:\n"
      "  events: {kind: file, path: /dev/null}\n"
      "pipelines:\n"
      "  pairs:\n"
      "    join:\n"
      "      left: {from: events, where: \"side == 'L'\", key: [k]}\n"
      "      right: {from: events, where: \"side == 'R'\", key: [k], fields: [v]}\n"
      "    window: {hopping: {size: 2s, slide: 1s}}\n",
      "t.yaml");
  for (const ConfigError& e : result.errors) ADD_FAILURE() << e.toString();
  ASSERT_TRUE(result.config.has_value());
  EXPECT_THAT(result.config->pipelines[0].from, ElementsAre("events"));
  EXPECT_FALSE(result.config->pipelines[0].join->left_outer);
}

TEST(JoinSection, MistakesAreReportedWhereTheyAre) {
  EXPECT_THAT(
      errorsOf(std::string(kHead) +
               "  a:\n"                                                          // 21
               "    from: events\n"                                              // 22
               "    join:\n"                                                     // 23
               "      type: outer\n"                                             // 24
               "      left: {from: persons, key: [id, name]}\n"                  // 25
               "      right: {from: sellers, key: [seller]}\n"                   // 26
               "    window: {session: {gap: 1s}}\n"                              // 27
               "    aggregates: {n: count()}\n"                                  // 28
               "  b:\n"                                                          // 29
               "    join:\n"                                                     // 30
               "      left: {from: persons, key: [id], fields: [name, n]}\n"     // 31
               "      right: {from: events, key: [seller], fields: [{n: x}]}\n"  // 32
               "    window: upstream\n"                                          // 33
               "  c:\n"                                                          // 34
               "    join:\n"                                                     // 35
               "      left: {from: persons, key: [idd]}\n"                       // 36
               "      right: {from: b, key: [seller]}\n"                         // 37
               "    window: {tumbling: 10s}\n"),                                 // 38
      ElementsAre(
          "t.yaml:22:5: pipelines.a.from: \"from\" does not go with join: each side has its own "
          "from, key and where",
          "t.yaml:24:13: pipelines.a.join.type: \"outer\" is not a join type (expected one of: "
          "inner, left)",
          "t.yaml:26:14: pipelines.a.join.right: the right key has 1 parts and the left key 2: a "
          "join compares them part by part",
          "t.yaml:27:13: pipelines.a.window: a join needs tumbling or hopping windows",
          "t.yaml:28:5: pipelines.a.aggregates: \"aggregates\" does not go with join: each joined "
          "row is one result",
          "t.yaml:31:7: pipelines.b.join: \"n\" names two values of the results (rename one: "
          "\"alias: field\")",
          "t.yaml:32:14: pipelines.b.join.right: a join reads two sources, or two pipelines that "
          "read the same tier of inputs",
          "t.yaml:36:35: pipelines.c.join.left.key[0]: \"idd\" is not a field of the results of "
          "pipeline \"persons\" (fields: id, name, n, window_start, window_end)",
          // b, a join of tier 1, read beside persons, of tier 0.
          "t.yaml:37:14: pipelines.c.join.right: a join reads two sources, or two pipelines that "
          "read the same tier of inputs",
          "t.yaml:37:30: pipelines.c.join.right.key[0]: \"seller\" is not a field of the results "
          "of pipeline \"b\" (fields: id, name, n, n, window_start, window_end)"));
}

}  // namespace
}  // namespace rivulet::config
