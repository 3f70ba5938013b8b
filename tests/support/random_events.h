// The random events of the operator property tests: their fields (f<i> numbers, c<i> categories),
// the record an event router builds from them, random aggregates over them, the stream as the
// operator sees it (events and watermark steps), and its keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "pipeline/model/plan.h"
#include "tests/support/draws.h"

namespace rivulet::testutil {

// c0, c1: the fields count_distinct and top_k read, after the number fields f0, f1, ...
inline constexpr int kCategoryFields = 2;

// A field of an event: f<i> holds a number; c<i> a small integer, written as a number or as the
// string "s<n>".
struct Field {
  bool null = true;
  bool is_string = false;
  double number = 0;

  // top_k's item: its type, then its text (pipeline/model/value_slot.h).
  std::string item() const;
};

// An event's fields: f0..f<number_fields-1> each `number()`, then the categories c0, c1, each
// a number or (as often) a string of 0..categories-1; any of them null with `null_probability`.
std::vector<Field> randomFields(int number_fields, double null_probability, int categories,
                                Draws& draws, const std::function<double()>& number);

// Where field `name` is among an event's fields: "f1" -> 1, "c0" -> number_fields + 0.
std::size_t fieldIndex(std::string_view name, int number_fields);

// The record an event router would build from `fields` (pipeline/model/value_slot.h): the value
// slots in the plan's order, then the item bytes, here in doubles after the slots.
std::vector<double> recordOf(const pipeline::PipelinePlan& plan, const std::vector<Field>& fields,
                             int number_fields);

// An aggregate a<k> of `kind` over a random field: one of f0..f<number_fields-1>, or for
// count_distinct and top_k a category field; a random q for a quantile, a random k for top_k.
config::AggregateSpec randomAggregate(config::AggregateKind kind, int k, int number_fields,
                                      std::mt19937_64& rng);

// Pipeline "p" over source "in", grouped by "key", with nothing else set yet (for
// testutil::configWith).
config::PipelineConfig keyedPipeline();

// One step of the stream as the operator sees it.
struct Step {
  enum Kind { kEvent, kWatermark } kind;
  std::size_t event = 0;       // kEvent
  std::int64_t watermark = 0;  // kWatermark
};

// The keys of a stream: key i encoded as "k<i>" or, with `long_keys`, as a string over 16 bytes
// (compared byte by byte), and its hash; with `colliding_hashes` the hash is i % 3, so many keys
// share one.
struct StreamKeys {
  StreamKeys(int count, bool long_keys, bool colliding_hashes);

  static std::string encode(bool long_keys, int key);

  std::vector<std::string> encoded;
  std::vector<std::uint64_t> hashes;
};

}  // namespace rivulet::testutil
