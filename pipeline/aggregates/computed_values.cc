#include "pipeline/aggregates/computed_values.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "pipeline/model/key.h"

namespace rivulet::pipeline {
namespace {

config::FieldValue fieldOf(const config::ExprValue& v) {
  config::FieldValue f;
  switch (v.kind) {
    case config::ValueKind::kNumber:
      f.type = config::FieldType::kNumber;
      f.number = v.number;
      break;
    case config::ValueKind::kString:
      f.type = config::FieldType::kString;
      f.text = v.text;
      break;
    case config::ValueKind::kBool:
      f.type = config::FieldType::kBool;
      f.text = v.boolean ? "true" : "false";
      break;
    case config::ValueKind::kNull:
    case config::ValueKind::kError:
      f.type = config::FieldType::kNull;
      break;
  }
  return f;
}

}  // namespace

ComputedValues::ComputedValues(const PipelinePlan& plan, const Aggregates& aggregates)
    : aggregates_(&aggregates), key_parts_(plan.group_by.size()) {
  const std::size_t n = aggregates.size();
  fields_.resize(n + key_parts_ + plan.computed.size());
  const auto index = [&](const config::FieldPath& path) {
    const std::string& name = path.segments.front();
    for (std::size_t k = 0; k < n; ++k) {
      if (plan.aggregates[k].name == name) return static_cast<int>(k);
    }
    for (std::size_t i = 0; i < key_parts_; ++i) {
      if (plan.group_by[i].name == name) return static_cast<int>(n + i);
    }
    for (std::size_t c = 0; c < plan.computed.size(); ++c) {
      if (plan.computed[c].name == name) return static_cast<int>(n + key_parts_ + c);
    }
    return -1;  // the loader resolves every name: not reached
  };
  computed_.reserve(plan.computed.size());
  for (const config::ComputedSpec& spec : plan.computed) {
    std::string name;
    JsonWriter json(name);
    json.string(spec.name);
    json.raw(':');
    computed_.push_back(Computed{config::CompiledExpression(spec.expression, index),
                                 std::move(name), spec.position, config::ExprValue{}});
  }
  if (plan.having) having_.emplace(*plan.having, index, config::ExprType::kBool);
  if (plan.top) {
    rank_by_.emplace(plan.top->by, index, config::ExprType::kNumber);
    rank_n_ = static_cast<std::size_t>(plan.top->n);
    ascending_ = plan.top->ascending;
    best_.reserve(rank_n_);
  }
}

bool ComputedValues::evaluate(const Word* state, const SketchPool& sketches,
                              std::string_view key) noexcept {
  const std::size_t n = aggregates_->size();
  for (std::size_t k = 0; k < n; ++k) {
    config::FieldValue& f = fields_[k];
    const double v = aggregates_->value(k, state, sketches);
    f.type = v == v ? config::FieldType::kNumber : config::FieldType::kNull;
    f.number = v;
  }
  KeyParts parts(key);
  KeyPartType type;
  std::string_view bytes;
  for (std::size_t i = 0; i < key_parts_ && parts.next(type, bytes); ++i) {
    fields_[n + i] = keyPartField(type, bytes);
  }
  for (std::size_t c = 0; c < computed_.size(); ++c) {
    Computed& computed = computed_[c];
    computed.value = computed.expression.evaluate(fields_.data());
    fields_[n + key_parts_ + c] = fieldOf(computed.value);
  }
  if (having_ && !config::isTrue(having_->evaluate(fields_.data()))) return false;
  rank_value_ = std::numeric_limits<double>::quiet_NaN();
  if (rank_by_) {
    const config::ExprValue v = rank_by_->evaluate(fields_.data());
    if (v.kind == config::ValueKind::kNumber) rank_value_ = v.number;
  }
  return true;
}

bool ComputedValues::mayRank() noexcept {
  if (!rank_by_) return true;
  const double v = rank_value_;
  const double score = v != v ? -std::numeric_limits<double>::infinity() : ascending_ ? -v : v;
  const auto worse = std::greater<double>();  // a min-heap
  if (best_.size() < rank_n_) {
    best_.push_back(score);
    std::push_heap(best_.begin(), best_.end(), worse);
    return true;
  }
  if (score < best_.front()) return false;
  if (score > best_.front()) {
    std::pop_heap(best_.begin(), best_.end(), worse);
    best_.back() = score;
    std::push_heap(best_.begin(), best_.end(), worse);
  }
  return true;
}

void ComputedValues::writeJson(const Word* state, SketchPool& sketches, JsonWriter& out) const {
  out.raw('{');
  bool first = true;
  const auto separate = [&] {
    if (!first) out.raw(',');
    first = false;
  };
  std::size_t position = 0;
  auto next = computed_.begin();
  const auto writeComputedAt = [&] {
    for (; next != computed_.end() && next->position == position; ++next, ++position) {
      separate();
      out.raw(next->name);
      const config::ExprValue& v = next->value;
      switch (v.kind) {
        case config::ValueKind::kNumber:
          out.number(v.number);
          break;
        case config::ValueKind::kString:
          out.string(v.text);
          break;
        case config::ValueKind::kBool:
          out.raw(v.boolean ? "true" : "false");
          break;
        case config::ValueKind::kNull:
        case config::ValueKind::kError:
          out.null();
          break;
      }
    }
  };
  for (std::size_t k = 0; k < aggregates_->size(); ++k) {
    if (aggregates_->hidden(k)) continue;
    writeComputedAt();
    separate();
    out.raw(aggregates_->jsonName(k));
    aggregates_->writeValue(k, state, sketches, out);
    ++position;
  }
  writeComputedAt();
  out.raw('}');
}

}  // namespace rivulet::pipeline
