// The random events of the operator property tests (random_events.h).
#include "tests/support/random_events.h"

#include <bit>
#include <cstring>
#include <limits>

#include "pipeline/model/hash.h"
#include "pipeline/model/key.h"
#include "pipeline/model/value_slot.h"

namespace rivulet::testutil {

using pipeline::KeyPartType;

std::string Field::item() const {
  const std::string text = std::to_string(static_cast<int>(number));
  return is_string ? static_cast<char>(KeyPartType::kString) + ("s" + text)
                   : static_cast<char>(KeyPartType::kNumber) + text;
}

std::vector<Field> randomFields(int number_fields, double null_probability, int categories,
                                Draws& draws, const std::function<double()>& number) {
  std::vector<Field> fields;
  for (int f = 0; f < number_fields + kCategoryFields; ++f) {
    Field field;
    field.null = draws.chance(null_probability);
    if (f >= number_fields) {
      field.is_string = draws.chance(0.5);
      field.number = static_cast<double>(draws.uniform(0, categories - 1));
    } else {
      field.number = number();
    }
    fields.push_back(field);
  }
  return fields;
}

std::size_t fieldIndex(std::string_view name, int number_fields) {
  return static_cast<std::size_t>((name[0] == 'f' ? 0 : number_fields) + (name[1] - '0'));
}

std::vector<double> recordOf(const pipeline::PipelinePlan& plan, const std::vector<Field>& fields,
                             int number_fields) {
  std::vector<double> record(plan.value_fields.size(), std::numeric_limits<double>::quiet_NaN());
  std::string items;
  for (std::size_t v = 0; v < record.size(); ++v) {
    const Field& field = fields[fieldIndex(plan.value_fields[v], number_fields)];
    if (field.null) continue;
    switch (plan.value_forms[v]) {
      case pipeline::ValueForm::kNumber:
        record[v] = field.number;
        break;
      case pipeline::ValueForm::kDistinctHash:
        record[v] = std::bit_cast<double>(
            field.is_string ? pipeline::distinctHash(KeyPartType::kString, field.item().substr(1))
                            : pipeline::distinctHash(field.number));
        break;
      case pipeline::ValueForm::kItem: {
        const std::string item = field.item();
        const pipeline::ItemRef ref{
            static_cast<std::uint32_t>(record.size() * sizeof(double) + items.size()),
            static_cast<std::uint32_t>(item.size())};
        record[v] = std::bit_cast<double>(ref.bits());
        items += item;
        break;
      }
    }
  }
  const std::size_t slots = record.size();
  record.resize(slots + (items.size() + sizeof(double) - 1) / sizeof(double));
  if (!items.empty()) std::memcpy(record.data() + slots, items.data(), items.size());
  return record;
}

config::AggregateSpec randomAggregate(config::AggregateKind kind, int k, int number_fields,
                                      std::mt19937_64& rng) {
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  config::AggregateSpec spec;
  spec.name = "a" + std::to_string(k);
  spec.kind = kind;
  if (kind == config::AggregateKind::kCountDistinct || kind == config::AggregateKind::kTopK) {
    spec.field = "c" + std::to_string(uniform(0, kCategoryFields - 1));
  } else if (kind != config::AggregateKind::kCount) {
    spec.field = "f" + std::to_string(uniform(0, number_fields - 1));
  }
  if (kind == config::AggregateKind::kQuantile) {
    const double qs[] = {0, 0.5, 0.9, 0.99, 1, std::uniform_real_distribution<double>(0, 1)(rng)};
    spec.quantile = qs[uniform(0, 5)];
  }
  if (kind == config::AggregateKind::kTopK) spec.k = uniform(1, 8);
  return spec;
}

config::PipelineConfig keyedPipeline() {
  config::PipelineConfig pipeline;
  pipeline.name = "p";
  pipeline.from = {"in"};
  pipeline.group_by = {config::GroupBySpec{"key"}};
  return pipeline;
}

StreamKeys::StreamKeys(int count, bool long_keys, bool colliding_hashes) {
  for (int k = 0; k < count; ++k) {
    encoded.push_back(encode(long_keys, k));
    hashes.push_back(colliding_hashes ? static_cast<std::uint64_t>(k % 3)
                                      : pipeline::hashKey(encoded.back()));
  }
}

std::string StreamKeys::encode(bool long_keys, int key) {
  std::string out;
  pipeline::appendKeyPart(out, KeyPartType::kString,
                          (long_keys ? "a-rather-long-key-" : "k") + std::to_string(key));
  return out;
}

}  // namespace rivulet::testutil
