#include "pipeline/result_feed.h"

#include <algorithm>
#include <cmath>

#include "config/plan_graph.h"
#include "pipeline/model/key.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::pipeline {
namespace {

constexpr std::int64_t kNanosPerMilli = 1'000'000;

std::int64_t floorMillis(std::int64_t ns) {
  return ns / kNanosPerMilli - (ns % kNanosPerMilli < 0 ? 1 : 0);
}

}  // namespace

ResultFeed::ResultFeed(const PipelinePlan& upstream, SourcePlan stream, std::vector<Ring*> rings,
                       std::vector<Doorbell*> bells)
    : fire_delay_(upstream.fire_delay),
      key_parts_(upstream.group_by.size()),
      computed_(upstream.computed.size()),
      router_(std::move(stream), std::move(rings), stats_, std::move(bells)) {
  std::vector<std::string> names;
  for (const config::GroupBySpec& part : upstream.group_by) names.push_back(part.name);
  if (upstream.join) {
    join_left_ = upstream.join->left_fields.size();
    join_right_ = upstream.join->right_fields.size();
    names.insert(names.end(), upstream.join->left_fields.begin(), upstream.join->left_fields.end());
    names.insert(names.end(), upstream.join->right_fields.begin(),
                 upstream.join->right_fields.end());
  }
  for (std::size_t k = 0; k < upstream.aggregates.size(); ++k) {
    const config::AggregateSpec& a = upstream.aggregates[k];
    if (a.hidden || a.kind == config::AggregateKind::kTopK) continue;
    aggregates_.push_back(k);
    names.push_back(a.name);
  }
  for (const config::ComputedSpec& c : upstream.computed) names.push_back(c.name);
  names.emplace_back("window_start");
  names.emplace_back("window_end");
  names.emplace_back(config::kResultTimeField);
  outputs_.resize(names.size());
  names_ = std::move(names);
  // A field the stream's plan lists that no result has (the loader refuses one, but a lookup's
  // field is one): always missing.
  outputs_.emplace_back();
  mapFields();
}

void ResultFeed::mapFields() {
  const std::size_t missing = names_.size();
  map_.clear();
  for (const std::string& field : router_.plan().fields) {
    const auto it = std::find(names_.begin(), names_.end(), field);
    map_.push_back(it == names_.end() ? missing : static_cast<std::size_t>(it - names_.begin()));
  }
  fields_.resize(map_.size());
}

void ResultFeed::barrier(std::uint64_t id) {
  router_.passBarrier(id);
  if (next_ == nullptr) return;
  router_.replan(*next_);
  next_ = nullptr;
  mapFields();
}

void ResultFeed::setNumber(Output& out, double number) noexcept {
  config::FieldValue& f = out.value;
  if (!std::isfinite(number)) {
    f = config::FieldValue{};
    f.type = config::FieldType::kNull;
    return;
  }
  f.type = config::FieldType::kNumber;
  f.number = number;
  f.is_integer = number == std::trunc(number) && std::fabs(number) < 9.0e18;
  f.integer = f.is_integer ? static_cast<std::int64_t>(number) : 0;
  f.text = numberText(number, out.text);
}

void ResultFeed::send(const WindowResult& result, const Aggregates& aggregates,
                      const ComputedValues* computed) noexcept {
  std::size_t o = 0;
  KeyParts parts(result.key);
  KeyPartType type;
  std::string_view bytes;
  for (; o < key_parts_ && parts.next(type, bytes); ++o) {
    outputs_[o].value = keyPartField(type, bytes);
  }
  // A join's rows (pipeline/windows/join_operator.h): the left fields, then the right's (null
  // for an unmatched left row).
  const auto row = [&](std::string_view encoded, std::size_t count) {
    KeyParts fields(encoded);
    for (std::size_t i = 0; i < count; ++i, ++o) {
      outputs_[o].value =
          fields.next(type, bytes) ? keyPartField(type, bytes) : config::FieldValue{};
      if (outputs_[o].value.type == config::FieldType::kMissing) {
        outputs_[o].value.type = config::FieldType::kNull;
      }
    }
  };
  row(result.left_row, join_left_);
  row(result.unmatched ? std::string_view() : result.right_row, join_right_);
  for (const std::size_t k : aggregates_) {
    setNumber(outputs_[o++], aggregates.value(k, result.state, *result.sketches));
  }
  for (std::size_t c = 0; c < computed_; ++c, ++o) {
    const config::FieldValue& f = computed->computedField(c);
    if (f.type == config::FieldType::kNumber) {
      setNumber(outputs_[o], f.number);
    } else {
      outputs_[o].value = f;
    }
  }
  setNumber(outputs_[o++], static_cast<double>(floorMillis(result.start)));
  setNumber(outputs_[o++], static_cast<double>(floorMillis(result.end)));
  config::FieldValue& time = outputs_[o].value;
  time.type = config::FieldType::kNumber;
  time.is_integer = true;
  time.integer = result.end - 1;
  for (std::size_t i = 0; i < map_.size(); ++i) fields_[i] = outputs_[map_[i]].value;
  router_.route(fields_.data(), 0);
  pending_ = true;
}

void ResultFeed::advance(std::int64_t watermark) noexcept {
  if (watermark < kMinTime + fire_delay_) return;  // no window has fired yet
  router_.setWatermark(watermark == kMaxTime ? kMaxTime : watermark - fire_delay_);
  pending_ = true;
}

void ResultFeed::flush() noexcept {
  if (!pending_) return;
  pending_ = false;
  router_.flush(wallNanos(), steadyNanos());
}

}  // namespace rivulet::pipeline
