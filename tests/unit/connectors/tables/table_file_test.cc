// Reading a lookup table's file: CSV with a header and JSON lines, typed values, blank lines, a
// key given twice, and the exact message of every refusal (a bad row, a missing column).
#include "connectors/tables/table_file.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/files.h"

namespace rivulet::connectors {
namespace {

class TableFile : public ::testing::Test {
 protected:
  config::TableSpec spec(const std::string& name, config::Format format,
                         std::vector<std::string> columns) {
    config::TableSpec s;
    s.name = "t";
    s.path = dir_.file(name);
    s.format = format;
    s.key = "id";
    s.at = "c.yaml:3:11: tables.t.path";
    for (const std::string& c : columns) {
      s.columns.push_back(c);
      s.columns_at.push_back("c.yaml:9:17: pipelines.p.lookup[0].fields");
    }
    return s;
  }
  TableRead read(const std::string& name, std::string_view text, config::Format format,
                 std::vector<std::string> columns) {
    testutil::writeFile(dir_.file(name), text);
    return readTable(spec(name, format, std::move(columns)));
  }

  testutil::TempDir dir_;
};

TEST_F(TableFile, CsvRowsAreTypedByTheirText) {
  const TableRead r = read("a.csv",
                           "id,name,weight,extra\r\n"
                           "1,\"Acme, Inc.\",0.5,x\n"
                           "\n"
                           "b7,plain,,y\n",
                           config::Format::kCsv, {"name", "weight"});
  ASSERT_TRUE(r.table) << r.error;
  EXPECT_EQ(r.table->rows(), 2u);
  ASSERT_EQ(r.table->columns().size(), 3u) << "the key and the columns read, no others";
  const int name = r.table->column("name"), weight = r.table->column("weight");
  const config::FieldValue* one = r.table->find("1");
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(one[name].text, "Acme, Inc.");
  EXPECT_EQ(one[weight].type, config::FieldType::kNumber);
  EXPECT_EQ(one[weight].number, 0.5);
  const config::FieldValue* b7 = r.table->find("b7");
  ASSERT_NE(b7, nullptr);
  EXPECT_EQ(b7[weight].type, config::FieldType::kNull);
  EXPECT_EQ(r.table->find("2"), nullptr);
  EXPECT_EQ(r.table->column("extra"), -1);
}

TEST_F(TableFile, JsonLinesMayLackAColumnInSomeRows) {
  const TableRead r = read("a.jsonl",
                           "{\"id\": 42, \"region\": \"eu\", \"n\": 3}\n"
                           "{\"id\": \"x\", \"n\": true}\n",
                           config::Format::kJson, {"region", "n"});
  ASSERT_TRUE(r.table) << r.error;
  const config::FieldValue* row = r.table->find("42");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row[r.table->column("region")].text, "eu");
  const config::FieldValue* x = r.table->find("x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x[r.table->column("region")].type, config::FieldType::kNull);
  EXPECT_EQ(x[r.table->column("n")].type, config::FieldType::kBool);
}

TEST_F(TableFile, TheLaterRowOfAKeyCounts) {
  const TableRead r = read("a.csv", "id,v\nk,1\nj,2\nk,3\n", config::Format::kCsv, {"v"});
  ASSERT_TRUE(r.table) << r.error;
  EXPECT_EQ(r.table->duplicates(), 1u);
  EXPECT_EQ(r.table->find("k")[1].text, "3");
}

TEST_F(TableFile, AnEmptyTableHasNoRows) {
  const TableRead r = read("a.csv", "id,v\n", config::Format::kCsv, {"v"});
  ASSERT_TRUE(r.table) << r.error;
  EXPECT_EQ(r.table->rows(), 0u);
}

TEST_F(TableFile, BadFilesAreRefusedWithWhereAndWhy) {
  const auto error = [&](std::string_view text, config::Format format) {
    const std::string name = format == config::Format::kCsv ? "b.csv" : "b.jsonl";
    const TableRead r = read(name, text, format, {"v"});
    EXPECT_FALSE(r.table);
    return r.error;
  };
  const std::string csv = dir_.file("b.csv"), json = dir_.file("b.jsonl");
  EXPECT_EQ(error("id,v\n1,2\n3,\"4\n", config::Format::kCsv), csv + ":3: invalid_csv");
  EXPECT_EQ(error("id,v\n1,2,3\n", config::Format::kCsv), csv + ":2: wrong_column_count");
  EXPECT_EQ(error("id,v\n,2\n", config::Format::kCsv),
            csv + ":2: the key \"id\" is null or missing");
  EXPECT_EQ(error("", config::Format::kCsv), csv + ": empty (no header line)");
  EXPECT_EQ(error("id,w\n1,2\n", config::Format::kCsv),
            "c.yaml:9:17: pipelines.p.lookup[0].fields: table \"t\" (" + csv +
                ") has no column \"v\" (it has id, w)");
  EXPECT_EQ(
      error("key,v\n1,2\n", config::Format::kCsv),
      "c.yaml:3:11: tables.t.path: table \"t\" (" + csv + ") has no column \"id\" (it has key, v)");
  EXPECT_EQ(error("{\"id\":1,\"v\":2}\n[1]\n", config::Format::kJson), json + ":2: not_object");
  EXPECT_EQ(error("{\"id\":1,\"v\":2}\n{\"id\":1,\n", config::Format::kJson),
            json + ":2: invalid_json");
  EXPECT_EQ(error("{\"v\":2}\n", config::Format::kJson),
            json + ":1: the key \"id\" is null or missing");
  EXPECT_EQ(
      error("{\"id\":1,\"w\":2}\n", config::Format::kJson),
      "c.yaml:9:17: pipelines.p.lookup[0].fields: table \"t\" (" + json + ") has no column \"v\"");
  config::TableSpec gone = spec("none.csv", config::Format::kCsv, {"v"});
  EXPECT_EQ(readTable(gone).error, "c.yaml:3:11: tables.t.path: cannot read \"" + gone.path +
                                       "\": No such file or directory");
}

}  // namespace
}  // namespace rivulet::connectors
