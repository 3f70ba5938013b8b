// `outputs:`: file outputs, each taking the results of the pipelines it names (all, when it names
// none), beside daemon.output. A bounded generator runs to its end; each output file must hold
// exactly the lines daemon.output holds for its pipelines, byte for byte and in order, and the
// log's final counts must say how many each output took.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

using ::testing::HasSubstr;

// The lines of `path` whose pipeline is among `pipelines` (all when empty).
std::vector<std::string> linesOf(const std::string& path,
                                 const std::vector<std::string>& pipelines) {
  std::vector<std::string> out;
  for (const std::string& line : splitLines(readFile(path))) {
    bool take = pipelines.empty();
    for (const std::string& p : pipelines) take |= line.find("{\"pipeline\":\"" + p + "\"") == 0;
    if (take) out.push_back(line);
  }
  return out;
}

TEST(DaemonOutputs, EachFileOutputTakesTheResultsOfItsPipelines) {
  TempDir dir;
  const std::string yaml = daemonYaml(dir, {.output = dir.file("all.jsonl")}) + "sources:\n" +
                           generatorYaml("gen", 5, 1000, 0, "    count: 6000\n") + "pipelines:\n" +
                           perKeyPipelineYaml("per_key", "gen") +
                           "  total:\n"
                           "    from: gen\n"
                           "    window: {tumbling: 2s}\n"
                           "    aggregates: {n: count(), s: sum(value)}\n"
                           "  hidden:\n"
                           "    from: gen\n"
                           "    window: {tumbling: 1s}\n"
                           "    aggregates: {n: count()}\n"
                           "    publish: false\n"
                           "  top:\n"
                           "    from: hidden\n"
                           "    window: upstream\n"
                           "    aggregates: {n: sum(n)}\n"
                           "outputs:\n"
                           "  totals:\n"
                           "    kind: file\n"
                           "    path: " +
                           dir.file("totals.jsonl") +
                           "\n"
                           "    pipelines: [total, top]\n"
                           "  everything:\n"
                           "    kind: file\n"
                           "    path: " +
                           dir.file("everything.jsonl") + "\n";
  Daemon daemon(dir, yaml);
  const auto exit_code = daemon.process().wait(60s);
  ASSERT_TRUE(exit_code.has_value()) << "a bounded input did not end the daemon:\n" << daemon.log();
  ASSERT_EQ(*exit_code, 0) << daemon.log();

  const std::vector<std::string> all = linesOf(dir.file("all.jsonl"), {});
  const std::vector<std::string> totals = linesOf(dir.file("all.jsonl"), {"total", "top"});
  ASSERT_FALSE(linesOf(dir.file("all.jsonl"), {"per_key"}).empty());
  ASSERT_FALSE(linesOf(dir.file("all.jsonl"), {"total"}).empty());
  ASSERT_FALSE(linesOf(dir.file("all.jsonl"), {"top"}).empty());
  EXPECT_TRUE(linesOf(dir.file("all.jsonl"), {"hidden"}).empty());
  EXPECT_EQ(linesOf(dir.file("totals.jsonl"), {}), totals);
  EXPECT_EQ(linesOf(dir.file("everything.jsonl"), {}), all);
  EXPECT_THAT(daemon.log(),
              HasSubstr("output totals: results of total, top to " + dir.file("totals.jsonl")));
  EXPECT_THAT(daemon.log(), HasSubstr("final count: rivulet_output_sent_total{output=\"totals\"} " +
                                      std::to_string(totals.size()) + "\n"));
  EXPECT_THAT(daemon.log(),
              HasSubstr("final count: rivulet_output_sent_total{output=\"everything\"} " +
                        std::to_string(all.size()) + "\n"));
}

TEST(DaemonOutputs, AnOutputThatCannotOpenStopsTheStart) {
  TempDir dir;
  const std::string yaml = daemonYaml(dir) + "sources:\n" +
                           generatorYaml("gen", 5, 1000, 0, "    count: 10\n") + "pipelines:\n" +
                           perKeyPipelineYaml("per_key", "gen") +
                           "outputs:\n  out: {kind: file, path: /nonexistent/dir/out.jsonl}\n";
  Daemon daemon(dir, yaml);
  const auto exit_code = daemon.process().wait(30s);
  ASSERT_TRUE(exit_code.has_value());
  EXPECT_EQ(*exit_code, 3) << daemon.log();
  EXPECT_THAT(daemon.log(), HasSubstr("outputs.out: output: cannot open \"/nonexistent/dir/"
                                      "out.jsonl\": No such file or directory"));
}

}  // namespace
}  // namespace rivulet::testutil
