// An operator under test with what it runs on, for the operator tests: its plan, the plan's
// aggregates and a ResultLog as its sink.
#pragma once

#include <utility>

#include "pipeline/aggregates/aggregate.h"
#include "pipeline/model/plan.h"
#include "tests/support/result_log.h"

namespace rivulet::testutil {

// Members in the order they refer to each other: each is built after, and destroyed before, what
// it holds a reference to.
template <typename Operator>
struct OperatorRun {
  OperatorRun(pipeline::PipelinePlan p, ResultLog::WindowEnds ends)
      : plan(std::move(p)),
        aggregates(plan.aggregates, plan.value_index),
        sink(aggregates, ends),
        op(plan, aggregates, &sink) {}
  OperatorRun(const OperatorRun&) = delete;
  OperatorRun& operator=(const OperatorRun&) = delete;

  pipeline::PipelinePlan plan;
  pipeline::Aggregates aggregates;
  ResultLog sink;
  Operator op;
};

}  // namespace rivulet::testutil
