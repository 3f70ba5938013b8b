// ComputedValues: a pipeline's values computed from its aggregates (`vwap: sum(price * qty) /
// sum(qty)`) and its having filter, evaluated as a window's result is written: once per result,
// never per event. A pipeline with neither has none, and its results are written as before.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/expression/program.h"
#include "pipeline/aggregates/aggregate.h"
#include "pipeline/model/json_writer.h"
#include "pipeline/model/plan.h"

namespace rivulet::pipeline {

// Thread contract: evaluate() uses the expressions' own stacks, so each stage needs its own.
class ComputedValues {
 public:
  static bool neededBy(const PipelinePlan& plan) noexcept {
    return !plan.computed.empty() || plan.having.has_value() || plan.top.has_value();
  }

  // `plan` and `aggregates` must outlive it.
  ComputedValues(const PipelinePlan& plan, const Aggregates& aggregates);

  // Computes the values of one result, its merged aggregate state and its encoded key
  // (pipeline/model/key.h). False when having is not true for it: it is not published.
  bool evaluate(const Word* state, const SketchPool& sketches, std::string_view key) noexcept;
  // After evaluate(): the value `top: {by}` ranks the result by, NaN for null (or without top).
  double rankValue() const noexcept { return rank_value_; }
  // After evaluate(), ranked pipelines: whether the result can still be among its window's first
  // n, given those this stage has ranked so far (ties pass: the publisher breaks them). The rest
  // are not serialised; the publisher ranks what passes from every stage. endWindow() at the end
  // of each window's results.
  bool mayRank() noexcept;
  void endWindow() noexcept { best_.clear(); }
  // After evaluate(): computed value `c` (config order) as an expression reads it; a string
  // points into the expression's scratch until the next evaluate().
  const config::FieldValue& computedField(std::size_t c) const noexcept {
    return fields_[aggregates_->size() + key_parts_ + c];
  }
  // After evaluate(): {"name":value,...}, the aggregates not hidden and the computed values in
  // config order. A computed value that is null or fails (a string where a number was needed) is
  // null; NaN and infinities are null as in every result.
  void writeJson(const Word* state, SketchPool& sketches, JsonWriter& out) const;

 private:
  struct Computed {
    config::CompiledExpression expression;
    std::string name;  // JSON-quoted, with the colon
    std::size_t position;
    config::ExprValue value;
  };

  const Aggregates* aggregates_;
  // What the expressions read, by index: the aggregates' values (config order), the key's parts,
  // then the computed values.
  std::vector<config::FieldValue> fields_;
  std::size_t key_parts_;
  std::vector<Computed> computed_;
  std::optional<config::CompiledExpression> having_;
  std::optional<config::CompiledExpression> rank_by_;
  double rank_value_ = 0;
  // The best n scores of the window so far (a min-heap: the n-th best first); a score is the
  // rank value oriented so that larger is better, null as -inf.
  std::vector<double> best_;
  std::size_t rank_n_ = 0;
  bool ascending_ = false;
};

}  // namespace rivulet::pipeline
