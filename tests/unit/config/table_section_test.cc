// `tables:` and a pipeline's `lookup:`: what the loader makes of them — the tables' columns as
// the lookups read them, lookup fields readable by what follows (a later lookup's key too) — and
// the exact message of every mistake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"
#include "tests/support/files.h"
#include "tests/unit/config/errors_of.h"

namespace rivulet::config {
namespace {

using ::testing::ElementsAre;

class TableSection : public ::testing::Test {
 protected:
  void SetUp() override {
    testutil::writeFile(dir_.file("s.csv"), "sym,sector\n");
    testutil::writeFile(dir_.file("r.jsonl"), "");
    testutil::writeFile(dir_.file("r.txt"), "");
  }
  // Sources (a generator, whose fields are known), then tables s and r: 9 lines.
  std::string head() const {
    return "sources:\n"
           "  gen: {kind: generator}\n"
           "  trades: {kind: file, path: /dev/null}\n"
           "tables:\n"
           "  s:\n"
           "    path: " +
           dir_.file("s.csv") +
           "\n"
           "    key: sym\n"
           "  r: {path: " +
           dir_.file("r.jsonl") +
           ", key: name}\n"
           "pipelines:\n";
  }
  testutil::TempDir dir_;
};

TEST_F(TableSection, LookupsAddFieldsAndTheColumnsTheyRead) {
  const LoadResult result =
      loadString(head() +
                     "  p:\n"
                     "    from: gen\n"
                     "    lookup:\n"
                     "      - {table: s, key: key, fields: [sector]}\n"
                     "      - table: r\n"
                     "        key: upper(sector)\n"
                     "        fields: [{area: region}, {sec2: sector}]\n"
                     "        missing: refuse\n"
                     "    where: \"area != 'x'\"\n"
                     "    group_by: [area]\n"
                     "    window: {tumbling: 1s}\n"
                     "    aggregates: {n: count(), s: count_if(sector is null)}\n",
                 "t.yaml");
  for (const ConfigError& e : result.errors) ADD_FAILURE() << e.toString();
  ASSERT_TRUE(result.config.has_value());
  const Config& config = *result.config;
  ASSERT_EQ(config.tables.size(), 2u);
  EXPECT_EQ(config.tables[0].format, Format::kCsv);
  EXPECT_EQ(config.tables[1].format, Format::kJson) << "by the path's extension";
  EXPECT_THAT(config.tables[0].columns, ElementsAre("sector"));
  EXPECT_THAT(config.tables[1].columns, ElementsAre("region", "sector"));
  EXPECT_EQ(config.tables[1].columns_at[0], "t.yaml:16:17: pipelines.p.lookup[1].fields");
  const PipelineConfig& p = config.pipelines[0];
  ASSERT_EQ(p.lookups.size(), 2u);
  EXPECT_EQ(p.lookups[0].table, 0u);
  EXPECT_FALSE(p.lookups[0].refuse_missing);
  EXPECT_EQ(p.lookups[1].table, 1u);
  EXPECT_EQ(p.lookups[1].key.toString(), "upper(sector)");
  EXPECT_TRUE(p.lookups[1].refuse_missing);
  ASSERT_EQ(p.lookups[1].fields.size(), 2u);
  EXPECT_EQ(p.lookups[1].fields[0], (std::pair<std::string, std::string>{"area", "region"}));
}

TEST_F(TableSection, ALookupFieldReplacesADeclaredOne) {
  const LoadResult result =
      loadString(head() +
                     "  p:\n"
                     "    from: gen\n"
                     "    lookup: [{table: s, key: key, fields: [{value: sector}]}]\n"
                     "    group_by: [{v: upper(value)}]\n"
                     "    window: {tumbling: 1s}\n"
                     "    aggregates: {n: count()}\n",
                 "t.yaml");
  for (const ConfigError& e : result.errors) ADD_FAILURE() << e.toString();
  EXPECT_TRUE(result.config.has_value()) << "the generator's number `value` is a lookup's here";
}

TEST_F(TableSection, MistakesAreReportedWhereTheyAre) {
  EXPECT_THAT(
      errorsOf(head() +
               "  p:\n"                                                                   // 10
               "    from: gen\n"                                                          // 11
               "    lookup:\n"                                                            // 12
               "      - {table: sectors, key: key, fields: [sector]}\n"                   // 13
               "      - {table: s, key: keyy, fields: [{s2: sector}], missing: maybe}\n"  // 14
               "      - {table: s, key: key, fields: [{sector: x}], cache: 1}\n"          // 15
               "    group_by: [sectr]\n"                                                  // 16
               "    window: {tumbling: 1s}\n"                                             // 17
               "    aggregates: {n: count()}\n"                                           // 18
               "  q:\n"                                                                   // 19
               "    join:\n"                                                              // 20
               "      left: {from: trades, key: [a]}\n"                                   // 21
               "      right: {from: trades, key: [b]}\n"                                  // 22
               "    lookup: [{table: s, key: a, fields: [sector]}]\n"                     // 23
               "    window: {tumbling: 1s}\n"),                                           // 24
      ElementsAre(
          "t.yaml:13:17: pipelines.p.lookup[0].table: \"sectors\" is not a table (tables: s, r)",
          "t.yaml:14:25: pipelines.p.lookup[1].key: \"keyy\" is not a field of generator source "
          "\"gen\" (fields: ts, key, value)",
          "t.yaml:14:64: pipelines.p.lookup[1].missing: \"maybe\" is not what a missing key "
          "gives (expected one of: null, refuse)",
          "t.yaml:15:38: pipelines.p.lookup[2].fields: \"sector\" is added by two lookups "
          "(rename one: \"alias: column\")",
          "t.yaml:15:53: pipelines.p.lookup[2].cache: unknown key \"cache\" (known keys: table, "
          "key, fields, missing)",
          "t.yaml:16:16: pipelines.p.group_by[0]: \"sectr\" is not a field of generator source "
          "\"gen\" (fields: ts, key, value)",
          "t.yaml:23:5: pipelines.q.lookup: \"lookup\" does not go with join: enrich the sides' "
          "inputs in pipelines of their own"));
}

TEST_F(TableSection, ATableMustBeReadableAndSayItsFormat) {
  EXPECT_THAT(
      errorsOf("sources:\n"
               "  gen: {kind: generator}\n"
               "tables:\n"
               "  a: {path: /nonexistent/a.csv, key: k}\n"
               "  b: {path: " +
               dir_.file("r.txt") +
               ", key: k}\n"
               "  c: {path: " +
               dir_.file("r.txt") +
               ", key: k, format: xml}\n"
               "  d: {path: " +
               dir_.file("s.csv") +
               "}\n"
               "pipelines:\n"
               "  p: {from: gen, window: {tumbling: 1s}, aggregates: {n: count()}}\n"),
      ElementsAre("t.yaml:4:13: tables.a.path: cannot read \"/nonexistent/a.csv\": No such file "
                  "or directory",
                  "t.yaml:5:6: tables.b: format: csv or json is required (the path's extension "
                  "does not say which)",
                  "t.yaml:6:" + std::to_string(31 + dir_.file("r.txt").size()) +
                      ": tables.c.format: \"xml\" is not a table format (expected one of: csv, "
                      "json)",
                  "t.yaml:7:6: tables.d: missing required key \"key\""));
}

}  // namespace
}  // namespace rivulet::config
