// ComputedValues: a result's computed values and having over hand-made states and keys — the
// values in config order around the aggregates, hidden aggregates left out, nulls (an empty sum,
// a division by zero, a failed evaluation), key parts of each type read as values, and having
// dropping a result that is false or null. The end-to-end check against a brute-force reference
// is tests/integration/daemon_computed_test.cc.
#include "pipeline/aggregates/computed_values.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/aggregates/sketch_pool.h"
#include "pipeline/model/key.h"
#include "tests/support/plans.h"

namespace rivulet::pipeline {
namespace {

constexpr double kNull = std::numeric_limits<double>::quiet_NaN();

// Pipeline "p" of `aggregates` (and `having`), keyed by sym (string), lot (number) and odd
// (bool), with its aggregates, one state and the result it writes.
class Rig {
 public:
  explicit Rig(const std::string& aggregates, const std::string& having = "")
      : config_(testutil::loadConfig(
            "sources:\n"
            "  in: {kind: file, path: /dev/null, time: {field: ts, unit: ms}}\n"
            "pipelines:\n"
            "  p:\n"
            "    from: in\n"
            "    group_by: [sym, lot, odd]\n"
            "    window: {tumbling: 1s}\n"
            "    aggregates:\n" +
            aggregates + (having.empty() ? "" : "    having: " + having + "\n"))),
        plan_(compilePipeline(config_, 0)),
        aggregates_(plan_.aggregates, plan_.value_index),
        sketches_(aggregates_),
        computed_(plan_, aggregates_),
        state_(aggregates_.words()) {
    aggregates_.init(state_.data());
  }

  // Folds in one event of the named fields (an absent field is null).
  void add(const std::map<std::string, double>& fields) {
    std::vector<double> values(plan_.value_fields.size(), kNull);
    for (std::size_t v = 0; v < values.size(); ++v) {
      const std::string& name = plan_.value_fields[v];
      if (name == "px * qty") {
        if (fields.count("px") && fields.count("qty"))
          values[v] = fields.at("px") * fields.at("qty");
      } else if (fields.count(name)) {
        values[v] = fields.at(name);
      }
    }
    aggregates_.update(state_.data(), 0, values.data(), sketches_);
  }

  // The result's values for key (sym, lot, odd), or "dropped" when having drops it.
  std::string result(std::string_view sym = "AAPL", std::string_view lot = "100",
                     std::string_view odd = "true") {
    std::string key;
    appendKeyPart(key, KeyPartType::kString, sym);
    appendKeyPart(key, KeyPartType::kNumber, lot);
    appendKeyPart(key, KeyPartType::kBool, odd);
    if (!computed_.evaluate(state_.data(), sketches_, key)) return "dropped";
    std::string out;
    JsonWriter json(out);
    computed_.writeJson(state_.data(), sketches_, json);
    return out;
  }

 private:
  config::Config config_;
  PipelinePlan plan_;
  Aggregates aggregates_;
  SketchPool sketches_;
  ComputedValues computed_;
  std::vector<Word> state_;
};

TEST(ComputedValues, ValuesInConfigOrderWithoutTheHiddenAggregates) {
  Rig rig(
      "      vwap: sum(px * qty) / sum(qty)\n"
      "      volume: sum(qty)\n"
      "      range: max(px) - min(px)\n"
      "      n: count()\n"
      "      per_trade: volume / n\n");
  rig.add({{"px", 10}, {"qty", 1}});
  rig.add({{"px", 12}, {"qty", 3}});
  EXPECT_EQ(rig.result(), R"({"vwap":11.5,"volume":4,"range":2,"n":2,"per_trade":2})");
}

TEST(ComputedValues, NullsAndFailuresAreNull) {
  Rig rig(
      "      n: count()\n"
      "      vwap: sum(px * qty) / sum(qty)\n"  // no qty at all: null / null
      "      zero: n / (n - n)\n"               // division by zero
      "      mixed: max(px) + len(sym)\n"       // a number: len of a string key
      "      missing_min: min(qty) * 2\n");
  rig.add({{"px", 5}});
  EXPECT_EQ(rig.result(), R"({"n":1,"vwap":null,"zero":null,"mixed":9,"missing_min":null})");
}

TEST(ComputedValues, KeyPartsAreValuesOfTheirTypes) {
  Rig rig(
      "      n: count()\n"
      "      label: upper(sym)\n"
      "      lots: lot * n\n"
      "      even: not odd\n");
  rig.add({});
  rig.add({});
  EXPECT_EQ(rig.result("msft", "2.5", "false"), R"({"n":2,"label":"MSFT","lots":5,"even":true})");
}

TEST(ComputedValues, HavingDropsResultsThatAreNotTrue) {
  Rig rig(
      "      n: count()\n"
      "      avg_px: avg(px)\n",
      "n >= 2 and avg_px > 10 and sym != 'IBM'");
  rig.add({{"px", 30}});
  EXPECT_EQ(rig.result(), "dropped") << "n is 1";
  rig.add({});
  EXPECT_EQ(rig.result(), R"({"n":2,"avg_px":30})");
  EXPECT_EQ(rig.result("IBM"), "dropped");
  Rig nulls("      n: count()\n", "max(px) > 1");  // null: no px
  nulls.add({});
  EXPECT_EQ(nulls.result(), "dropped");
}

TEST(ComputedValues, HavingAloneLeavesTheValuesAsTheyWere) {
  Rig rig("      n: count()\n      total: sum(qty)\n", "count() > 0");
  rig.add({{"qty", 2}});
  EXPECT_EQ(rig.result(), R"({"n":1,"total":2})");
}

}  // namespace
}  // namespace rivulet::pipeline
