#include "pipeline/source_plan.h"

#include <algorithm>

namespace rivulet::pipeline {
namespace {

int fieldIndex(std::vector<std::string>& fields, const std::string& name) {
  auto it = std::find(fields.begin(), fields.end(), name);
  if (it != fields.end()) return static_cast<int>(it - fields.begin());
  fields.push_back(name);
  return static_cast<int>(fields.size() - 1);
}

// A group-by part of `route`'s key: the field, or the expression among plan.key_exprs.
void addKeyPart(SourcePlan& plan, SourcePlan::Route& route, const config::GroupBySpec& part) {
  if (part.expression) {
    route.key_fields.push_back(~static_cast<int>(plan.key_exprs.size()));
    route.computed_key = true;
    plan.key_exprs.push_back(*part.expression);
    for (const config::FieldPath& f : part.expression->fields()) {
      fieldIndex(plan.fields, fieldName(f));
    }
  } else {
    route.key_fields.push_back(fieldIndex(plan.fields, part.name));
  }
}

// The routes of a join pipeline `p` for source `name`: one per side reading it (both, when both
// sides read the same source with their own where).
void planJoin(SourcePlan& plan, const config::Config& config, const std::string& name,
              const PipelinePlan& p) {
  const config::JoinSpec& join = *config.pipelines[p.id].join;
  for (const config::JoinSide* side : {&join.left, &join.right}) {
    if (side->from != name) continue;
    SourcePlan::Route route;
    route.pipeline = p.id;
    route.size = p.size;
    route.slide = p.slide;
    route.allowed_lateness = p.allowed_lateness;
    route.fire_delay = p.fire_delay;
    for (const config::GroupBySpec& part : side->key) addKeyPart(plan, route, part);
    route.hashed_parts = route.key_fields.size();
    for (const config::GroupBySpec& part : side->fields) addKeyPart(plan, route, part);
    route.value_fields = {-1};
    route.value_exprs = {config::parseExpression(side == &join.left ? "0" : "1").expression};
    route.value_forms = {ValueForm::kNumber};
    route.numbers = 1;
    if (side->where) {
      route.where = *side->where;
      for (const config::FieldPath& f : side->where->fields())
        fieldIndex(plan.fields, fieldName(f));
    }
    plan.routes.push_back(std::move(route));
  }
}

}  // namespace

std::string fieldName(const config::FieldPath& path) {
  std::string name;
  for (std::size_t i = 0; i < path.segments.size(); ++i) {
    if (i > 0) name += config::kFieldPathSeparator;
    name += path.segments[i];
  }
  return name;
}

SourcePlan planSource(const config::Config& config, std::size_t source,
                      std::span<const PipelinePlan> pipelines) {
  SourcePlan plan;
  const config::SourceConfig& spec = config.sources[source];
  plan.watermark = spec.watermark;
  plan.overflow = spec.overflow;
  if (spec.time) {
    plan.time_field = fieldIndex(plan.fields, spec.time->field);
    plan.time_unit = spec.time->unit;
  }
  // A generator's events have their declared types by construction.
  if (spec.kind != config::SourceKind::kGenerator) {
    for (const config::DeclaredField& field : spec.fields)
      plan.declared.emplace_back(fieldIndex(plan.fields, fieldName(field.path)), field.kind);
  }
  for (const PipelinePlan& p : pipelines) {
    if (std::find(p.sources.begin(), p.sources.end(), static_cast<int>(source)) == p.sources.end())
      continue;
    if (p.join) {
      planJoin(plan, config, spec.name, p);
      continue;
    }
    SourcePlan::Route route;
    route.pipeline = p.id;
    route.late_topic = p.late_topic;
    // A session's window, as far as lateness goes, is the event's own [t, t + gap): a window of
    // size gap for every start, slide 1 ns.
    route.session = p.session;
    route.size = p.session ? p.gap : p.size;
    route.slide = p.session ? 1 : p.slide;
    route.allowed_lateness = p.allowed_lateness;
    route.fire_delay = p.fire_delay;
    for (const config::GroupBySpec& part : p.group_by) {
      if (part.expression) {
        route.key_fields.push_back(~static_cast<int>(plan.key_exprs.size()));
        route.computed_key = true;
        plan.key_exprs.push_back(*part.expression);
        for (const config::FieldPath& f : part.expression->fields())
          fieldIndex(plan.fields, fieldName(f));
      } else {
        route.key_fields.push_back(fieldIndex(plan.fields, part.name));
      }
    }
    route.hashed_parts = route.key_fields.size();
    route.value_forms = p.value_forms;
    route.numbers = static_cast<std::size_t>(
        std::count(p.value_forms.begin(), p.value_forms.end(), ValueForm::kNumber));
    for (std::size_t v = 0; v < p.value_fields.size(); ++v) {
      route.value_exprs.push_back(p.value_exprs[v]);
      if (const auto& expr = p.value_exprs[v]) {
        route.value_fields.push_back(-1);
        for (const config::FieldPath& f : expr->fields()) fieldIndex(plan.fields, fieldName(f));
      } else {
        route.value_fields.push_back(fieldIndex(plan.fields, p.value_fields[v]));
      }
    }
    if (const auto& where = config.pipelines[p.id].where) {
      route.where = *where;
      for (const config::FieldPath& f : where->fields()) fieldIndex(plan.fields, fieldName(f));
    }
    plan.routes.push_back(std::move(route));
  }
  return plan;
}

}  // namespace rivulet::pipeline
