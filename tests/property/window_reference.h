// The brute-force reference the window and session property tests share: random events (their
// fields, the record the operator reads, when they arrive against the watermark), the feeding of a
// case's steps to an operator, every aggregate recomputed from the raw events, and the reading and
// comparing of the operator's results.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "pipeline/model/key.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/record.h"
#include "pipeline/sketches/quantile_sketch.h"
#include "pipeline/windows/operator.h"
#include "tests/support/draws.h"
#include "tests/support/random_events.h"

namespace rivulet::testutil {

inline constexpr int kCases = 200;

inline constexpr int kNumberFields = 3;  // f0..f2, then the categories c0, c1

struct Event {
  std::int64_t time;
  int key;
  std::vector<Field> fields;  // f0..f2, c0, c1
  // What the operator reads: the value slots in the plan's order, then top_k's item bytes.
  std::vector<double> record;
  std::int64_t watermark_at_arrival;
  bool late = false;
  bool refused = false;  // a new key for a slice already holding max_keys keys
};

// Feeds the steps of case `c` to `op`: each watermark through `advance`, each event through add(),
// checked against the event's expected outcome and then shown to `seen`; at the end of the steps
// the end of input, if the case has one, and the flush. Returns the events the operator found
// late.
template <typename C>
std::size_t feed(const C& c, pipeline::Operator& op, pipeline::ResultSink& sink,
                 const std::function<void(std::int64_t)>& advance,
                 const std::function<void(const Event&)>& seen = {}) {
  const StreamKeys keys(c.keys, c.long_keys, c.colliding_hashes);
  std::size_t late = 0;
  for (const Step& s : c.steps) {
    if (s.kind == Step::kWatermark) {
      advance(s.watermark);
      continue;
    }
    const Event& e = c.events[s.event];
    const pipeline::AddResult added =
        op.add(e.time, keys.hashes[e.key], keys.encoded[e.key], e.record.data());
    const pipeline::AddResult want = e.late      ? pipeline::AddResult::kLate
                                     : e.refused ? pipeline::AddResult::kRefused
                                                 : pipeline::AddResult::kAdded;
    EXPECT_EQ(static_cast<int>(added), static_cast<int>(want))
        << "event " << s.event << " at " << e.time;
    late += added == pipeline::AddResult::kLate;
    if (seen) seen(e);
  }
  if (c.end_of_input) advance(pipeline::kMaxTime);
  op.flush(c.flush_kind, sink);
  return late;
}

// An event's fields f0..f2 (numbers; with exact_values multiples of 1/8, so sums are exact in any
// order) and c0, c1 (categories).
inline std::vector<Field> randomFields(double null_probability, bool exact_values, int categories,
                                       Draws& draws) {
  return randomFields(kNumberFields, null_probability, categories, draws, [&] {
    return exact_values ? static_cast<double>(draws.uniform(-800, 800)) / 8 : draws.real(-1e3, 1e3);
  });
}

// How a case draws its events, alike for windows and sessions.
struct EventDraws {
  std::int64_t span;              // the window size or the session gap
  std::int64_t delay = 0;         // of the watermark behind the largest time so far
  std::int64_t max_disorder = 0;  // how far an event's time may fall behind the clock
  double advance_probability = 0;
  double null_probability = 0;
  bool exact_values = false;  // multiples of 1/8: sums exact in any order
  // Distinct values of a category field: with both types at most 60, so that count_distinct
  // (exact to 64) and top_k (64 counters or more) are exact.
  int categories = 1;
  std::int64_t max_time = pipeline::kMinTime;
  std::int64_t watermark = pipeline::kMinTime;
};

// Appends to `c` an event of a random key at `clock` or up to max_disorder before it, then maybe
// a watermark step: the largest time less the delay, rarely a jump ahead (empty windows are
// passed) or a step back (ignored).
template <typename Case>
void addEvent(std::int64_t clock, EventDraws& d, Draws& draws, Case& c) {
  Event e;
  e.time = clock - (draws.chance(0.5) ? 0 : draws.uniform(0, d.max_disorder));
  e.key = static_cast<int>(draws.uniform(0, c.keys - 1));
  e.fields = randomFields(d.null_probability, d.exact_values, d.categories, draws);
  e.record = recordOf(c.plan, e.fields, kNumberFields);
  e.watermark_at_arrival = d.watermark;
  d.max_time = std::max(d.max_time, e.time);
  c.steps.push_back({Step::kEvent, c.events.size(), 0});
  c.events.push_back(std::move(e));
  if (draws.chance(d.advance_probability)) {
    std::int64_t w = d.max_time - d.delay;
    if (draws.chance(0.01)) w = d.max_time + draws.uniform(0, 3 * d.span);
    if (draws.chance(0.03)) w = w - draws.uniform(0, 2 * d.span);
    c.steps.push_back({Step::kWatermark, 0, w});
    d.watermark = std::max(d.watermark, w);
  }
}

// One aggregate's result: a number or null, or for top_k the JSON of its result.
struct Value {
  std::optional<double> number;
  std::string json{};                 // top_k only: "[[item,count],...]" or "null"
  std::optional<double> within = {};  // a reference quantile of at most 64 values: the rounding
                                      // it may differ by
};
using Values = std::vector<Value>;

// The result of `spec` over `events` (in arrival order), computed the obvious way.
inline Value aggregate(const config::AggregateSpec& spec, const std::vector<const Event*>& events) {
  if (spec.kind == config::AggregateKind::kCount) return {static_cast<double>(events.size())};
  // The events with a value, and their values, in arrival order.
  std::vector<const Event*> with;
  std::vector<double> values;
  for (const Event* e : events) {
    const Field& f = e->fields[fieldIndex(spec.field, kNumberFields)];
    if (f.null) continue;
    with.push_back(e);
    values.push_back(f.number);
  }
  const std::size_t n = values.size();
  switch (spec.kind) {
    case config::AggregateKind::kCount:
      break;
    case config::AggregateKind::kCountIf:
      return {static_cast<double>(std::count(values.begin(), values.end(), 1.0))};
    case config::AggregateKind::kSum:
    case config::AggregateKind::kAvg: {
      if (n == 0) return {};
      double sum = 0;
      for (const double v : values) sum += v;
      return {spec.kind == config::AggregateKind::kSum ? sum : sum / static_cast<double>(n)};
    }
    case config::AggregateKind::kMin:
      if (n == 0) return {};
      return {*std::min_element(values.begin(), values.end())};
    case config::AggregateKind::kMax:
      if (n == 0) return {};
      return {*std::max_element(values.begin(), values.end())};
    // Ties in time: first keeps the earliest added, last takes the latest added.
    case config::AggregateKind::kFirst:
    case config::AggregateKind::kLast: {
      std::optional<std::size_t> at;
      for (std::size_t i = 0; i < n; ++i) {
        if (!at ||
            (spec.kind == config::AggregateKind::kFirst ? with[i]->time < with[*at]->time
                                                        : with[i]->time >= with[*at]->time)) {
          at = i;
        }
      }
      if (!at) return {};
      return {values[*at]};
    }
    // Two passes, textbook sample variance: the mean, then the squared deviations from it.
    case config::AggregateKind::kStddev:
    case config::AggregateKind::kVariance: {
      if (n < 2) return {};
      double sum = 0;
      for (const double v : values) sum += v;
      const double mean = sum / static_cast<double>(n);
      double squares = 0;
      for (const double v : values) squares += (v - mean) * (v - mean);
      const double variance = squares / static_cast<double>(n - 1);
      return {spec.kind == config::AggregateKind::kVariance ? variance : std::sqrt(variance)};
    }
    // Up to 64 values numpy's linear interpolation, as numpy computes it; beyond, the lower
    // quantile, with the sketch's rank convention (pipeline/sketches/quantile_sketch.h).
    case config::AggregateKind::kQuantile: {
      if (n == 0) return {};
      std::sort(values.begin(), values.end());
      const double h = spec.quantile * static_cast<double>(n - 1);
      const auto r = static_cast<std::size_t>(h);
      if (n > pipeline::QuantileSketch::kExactLimit) return {values[r]};
      const double a = values[r];
      const double b = values[std::min(r + 1, n - 1)];
      const double t = h - static_cast<double>(r);
      const double numpy = t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
      return {numpy, "", 1e-12 * std::max(std::abs(a), std::abs(b))};
    }
    case config::AggregateKind::kCountDistinct: {
      std::set<std::string> distinct;
      for (const Event* e : with)
        distinct.insert(e->fields[fieldIndex(spec.field, kNumberFields)].item());
      return {static_cast<double>(distinct.size())};
    }
    // Largest count first, ties by the item's bytes (type, then text).
    case config::AggregateKind::kTopK: {
      if (n == 0) return {std::nullopt, "null"};
      std::map<std::string, std::int64_t> counts;
      for (const Event* e : with) ++counts[e->fields[fieldIndex(spec.field, kNumberFields)].item()];
      std::vector<std::pair<std::string, std::int64_t>> top(counts.begin(), counts.end());
      std::stable_sort(top.begin(), top.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
      top.resize(std::min<std::size_t>(top.size(), static_cast<std::size_t>(spec.k)));
      std::string json = "[";
      for (const auto& [item, count] : top) {
        if (json.size() > 1) json += ',';
        const std::string text = item.substr(1);
        json += "[" +
                (static_cast<pipeline::KeyPartType>(item[0]) == pipeline::KeyPartType::kString
                     ? '"' + text + '"'
                     : text) +
                "," + std::to_string(count) + "]";
      }
      return {std::nullopt, json + "]"};
    }
  }
  return {};
}

inline Values aggregate(const pipeline::PipelinePlan& plan,
                        const std::vector<const Event*>& events) {
  Values out;
  for (const config::AggregateSpec& spec : plan.aggregates) out.push_back(aggregate(spec, events));
  return out;
}

// Parses {"a0":1,"a1":null,"a2":[["s1",2]],...} as Aggregates::writeJson writes it.
inline Values parseValues(const pipeline::PipelinePlan& plan, const std::string& json) {
  Values out;
  std::size_t at = 0;
  EXPECT_EQ(json[at++], '{') << json;
  for (std::size_t k = 0; k < plan.aggregates.size(); ++k) {
    const std::string name = "\"" + plan.aggregates[k].name + "\":";
    EXPECT_EQ(json.compare(at, name.size(), name), 0) << json;
    at += name.size();
    // The token ends at the first ',' or '}' outside brackets (top_k's strings hold neither).
    std::size_t token_end = at;
    for (int depth = 0; token_end < json.size(); ++token_end) {
      const char c = json[token_end];
      if (depth == 0 && (c == ',' || c == '}')) break;
      depth += c == '[' ? 1 : c == ']' ? -1 : 0;
    }
    const std::string token = json.substr(at, token_end - at);
    at = token_end + 1;
    if (plan.aggregates[k].kind == config::AggregateKind::kTopK) {
      out.push_back({std::nullopt, token});
      continue;
    }
    if (token == "null") {
      out.emplace_back();
      continue;
    }
    char* parsed_end = nullptr;
    out.push_back({std::strtod(token.c_str(), &parsed_end)});
    EXPECT_EQ(parsed_end, token.c_str() + token.size()) << json;
    const config::AggregateKind kind = plan.aggregates[k].kind;
    if (kind == config::AggregateKind::kCount || kind == config::AggregateKind::kCountIf ||
        kind == config::AggregateKind::kCountDistinct) {
      EXPECT_EQ(token.find_first_not_of("0123456789"), std::string::npos) << json;
    }
  }
  EXPECT_EQ(at, json.size()) << json;
  return out;
}

inline void expectSameValue(config::AggregateKind kind, const Value& expected, const Value& actual,
                            const std::string& where) {
  if (kind == config::AggregateKind::kTopK) {
    EXPECT_EQ(expected.json, actual.json) << where;
    return;
  }
  ASSERT_EQ(expected.number.has_value(), actual.number.has_value()) << where;
  if (!expected.number) return;
  const double want = *expected.number;
  const double got = *actual.number;
  if (kind == config::AggregateKind::kSum || kind == config::AggregateKind::kAvg ||
      kind == config::AggregateKind::kStddev || kind == config::AggregateKind::kVariance) {
    EXPECT_LE(std::abs(want - got), 1e-9 * std::max(1.0, std::abs(want)))
        << where << " expected " << want << " got " << got;
  } else if (kind == config::AggregateKind::kQuantile && expected.within) {
    EXPECT_LE(std::abs(want - got), *expected.within)
        << where << " expected " << want << " got " << got;
  } else if (kind == config::AggregateKind::kQuantile) {
    // The sketch's guarantee, up to the rounding of a log and an exp.
    EXPECT_LE(std::abs(want - got),
              pipeline::QuantileSketch::kDefaultRelativeAccuracy * (1 + 1e-9) * std::abs(want))
        << where << " expected " << want << " got " << got;
  } else {
    EXPECT_EQ(want, got) << where;
  }
}

}  // namespace rivulet::testutil
