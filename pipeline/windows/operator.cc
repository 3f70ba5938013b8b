#include "pipeline/windows/operator.h"

#include "pipeline/windows/join_operator.h"
#include "pipeline/windows/session_operator.h"
#include "pipeline/windows/window_operator.h"

namespace rivulet::pipeline {

std::unique_ptr<Operator> makeOperator(const PipelinePlan& plan, const Aggregates& aggregates,
                                       ResultSink* updates) {
  if (plan.join) return std::make_unique<JoinOperator>(plan);
  if (plan.session) return std::make_unique<SessionOperator>(plan, aggregates, updates);
  return std::make_unique<WindowOperator>(plan, aggregates, updates);
}

}  // namespace rivulet::pipeline
