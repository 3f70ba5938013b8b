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

// What a pipeline's lookup fields are called in the plan: the names its lookups give them,
// each mapped to the plan's name for the lookup's column.
class LookupNames {
 public:
  std::string field(const std::string& name) const {
    for (const auto& [from, to] : names_) {
      if (from == name) return to;
    }
    return name;
  }
  bool isLookupField(const std::string& name) const { return field(name) != name; }
  config::Expression expression(const config::Expression& e) const {
    if (names_.empty()) return e;
    return e.renamed([this](const config::FieldPath& path) {
      if (path.segments.size() != 1) return path;
      return config::FieldPath{{field(path.segments.front())}};
    });
  }
  config::GroupBySpec part(const config::GroupBySpec& part) const {
    if (part.expression) return config::GroupBySpec{part.name, expression(*part.expression)};
    return config::GroupBySpec{field(part.name)};
  }
  void add(std::string from, std::string to) {
    std::erase_if(names_, [&](const auto& n) { return n.first == from; });
    names_.emplace_back(std::move(from), std::move(to));
  }

 private:
  std::vector<std::pair<std::string, std::string>> names_;
};

// Adds pipeline `p`'s lookups to the plan (a lookup another pipeline of the source makes too is
// made once) and says what its fields are called there.
LookupNames planLookups(SourcePlan& plan, const config::PipelineConfig& p) {
  LookupNames names;
  for (const config::LookupSpec& spec : p.lookups) {
    const config::Expression key = names.expression(spec.key);
    auto it = std::find_if(plan.lookups.begin(), plan.lookups.end(),
                           [&](const auto& l) { return l.table == spec.table && l.key == key; });
    if (it == plan.lookups.end()) {
      plan.lookups.push_back(SourcePlan::Lookup{spec.table, key, {}, {}, nullptr, nullptr});
      for (const config::FieldPath& f : key.fields()) fieldIndex(plan.fields, fieldName(f));
      it = plan.lookups.end() - 1;
    }
    const std::size_t index = static_cast<std::size_t>(it - plan.lookups.begin());
    for (const auto& [name, column] : spec.fields) {
      const std::string field =
          std::string(1, kLookupFieldMark) + std::to_string(index) + ":" + column;
      if (std::find(it->columns.begin(), it->columns.end(), column) == it->columns.end()) {
        it->columns.push_back(column);
        it->outputs.push_back(fieldIndex(plan.fields, field));
      }
      names.add(name, field);
    }
  }
  return names;
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
    const config::PipelineConfig& pipeline = config.pipelines[p.id];
    const LookupNames names = planLookups(plan, pipeline);
    SourcePlan::Route route;
    route.pipeline = p.id;
    route.late_topic = p.late_topic;
    for (const config::LookupSpec& lookup : pipeline.lookups) {
      if (!lookup.refuse_missing) continue;
      const config::Expression key = names.expression(lookup.key);
      for (std::size_t l = 0; l < plan.lookups.size(); ++l) {
        if (plan.lookups[l].table == lookup.table && plan.lookups[l].key == key)
          route.refusing_lookups.push_back(l);
      }
    }
    // A session's window, as far as lateness goes, is the event's own [t, t + gap): a window of
    // size gap for every start, slide 1 ns.
    route.session = p.session;
    route.size = p.session ? p.gap : p.size;
    route.slide = p.session ? 1 : p.slide;
    route.allowed_lateness = p.allowed_lateness;
    route.fire_delay = p.fire_delay;
    for (const config::GroupBySpec& part : p.group_by) {
      if (!part.expression && names.isLookupField(part.name) && route.key_fields.size() < 64)
        route.nullable_parts |= std::uint64_t{1} << route.key_fields.size();
      addKeyPart(plan, route, names.part(part));
    }
    route.hashed_parts = route.key_fields.size();
    route.value_forms = p.value_forms;
    route.numbers = static_cast<std::size_t>(
        std::count(p.value_forms.begin(), p.value_forms.end(), ValueForm::kNumber));
    for (std::size_t v = 0; v < p.value_fields.size(); ++v) {
      if (const auto& expr = p.value_exprs[v]) {
        route.value_exprs.push_back(names.expression(*expr));
        route.value_fields.push_back(-1);
        for (const config::FieldPath& f : route.value_exprs.back()->fields())
          fieldIndex(plan.fields, fieldName(f));
      } else {
        route.value_exprs.emplace_back();
        route.value_fields.push_back(fieldIndex(plan.fields, names.field(p.value_fields[v])));
      }
    }
    if (pipeline.where) {
      route.where = names.expression(*pipeline.where);
      for (const config::FieldPath& f : route.where->fields())
        fieldIndex(plan.fields, fieldName(f));
    }
    plan.routes.push_back(std::move(route));
  }
  return plan;
}

}  // namespace rivulet::pipeline
