#include "pipeline/windows/operator.h"

#include "pipeline/windows/session_operator.h"
#include "pipeline/windows/window_operator.h"

namespace rivulet::pipeline {

std::unique_ptr<Operator> makeOperator(const PipelinePlan& plan, const Aggregates& aggregates,
                                       ResultSink* updates) {
  if (plan.session) return std::make_unique<SessionOperator>(plan, aggregates, updates);
  return std::make_unique<WindowOperator>(plan, aggregates, updates);
}

}  // namespace rivulet::pipeline
