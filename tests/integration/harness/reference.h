// The brute-force reference: every window re-aggregated from the raw events a test sent, and the
// comparison of the daemon's results with it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <compare>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/integration/harness/results.h"

namespace rivulet::itest {

enum class Agg { kCount, kSum, kMin, kMax, kAvg, kFirst, kLast, kQuantile, kCountDistinct, kTopK };

struct AggregateSpec {
  std::string name;
  Agg kind;
  double q = 0;  // kQuantile
  int k = 0;     // kTopK
};

// The value count_distinct and top_k read: a string or a number, with its JSON text.
struct Item {
  bool is_string = false;
  std::string text;                               // a string's value, or a number's JSON text
  auto operator<=>(const Item&) const = default;  // a number before a string, as rivulet's bytes
};

// One window and key, aggregated the obvious way.
struct RefState {
  std::int64_t count = 0;
  std::int64_t n = 0;  // non-null values
  double sum = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  std::int64_t first_ts = std::numeric_limits<std::int64_t>::max();
  std::int64_t last_ts = std::numeric_limits<std::int64_t>::min();
  double first = 0;
  double last = 0;
  std::vector<double> values;          // the non-null values, for quantiles
  std::map<Item, std::int64_t> items;  // for count_distinct and top_k

  void add(std::int64_t ts, std::optional<double> value, const std::optional<Item>& item) {
    ++count;
    if (item) ++items[*item];
    if (!value) return;
    ++n;
    values.push_back(*value);
    sum += *value;
    min = std::min(min, *value);
    max = std::max(max, *value);
    // Ties in time: first keeps the earliest added, last takes the latest added.
    if (ts < first_ts) {
      first_ts = ts;
      first = *value;
    }
    if (ts >= last_ts) {
      last_ts = ts;
      last = *value;
    }
  }
};

struct WindowId {
  std::int64_t start = 0;  // ms
  std::int64_t end = 0;    // ms
  std::vector<std::string> key;
  auto operator<=>(const WindowId&) const = default;
};

inline std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// The windows of one pipeline (epoch-aligned, [start, start + size) for start a multiple of
// slide), re-aggregated from the raw events.
class WindowReference {
 public:
  WindowReference(std::string pipeline, std::vector<std::string> group_by, std::int64_t size_ms,
                  std::int64_t slide_ms)
      : pipeline_(std::move(pipeline)),
        group_by_(std::move(group_by)),
        size_(size_ms),
        slide_(slide_ms) {}

  // Adds an event as the daemon must when its watermark is `watermark_ms` (allowed lateness 0):
  // to every window containing ts whose end the watermark has not reached. Returns false if there
  // is none: the event is late. `value` is what the numeric aggregates read, `item` what
  // count_distinct and top_k read.
  bool add(std::int64_t ts_ms, const std::vector<std::string>& key, std::optional<double> value,
           std::int64_t watermark_ms = std::numeric_limits<std::int64_t>::min(),
           const std::optional<Item>& item = std::nullopt) {
    bool added = false;
    for (std::int64_t start = floorDiv(ts_ms, slide_) * slide_; start > ts_ms - size_;
         start -= slide_) {
      if (start + size_ <= watermark_ms) continue;
      windows_[WindowId{start, start + size_, key}].add(ts_ms, value, item);
      added = true;
    }
    if (added) {
      ++events_;
    } else {
      ++late_;
    }
    return added;
  }

  std::string topic(const WindowId& id) const {
    std::string topic = pipeline_ + "/";
    for (const std::string& part : id.key) topic += part + "/";
    return topic;
  }

  const std::string& pipeline() const { return pipeline_; }
  const std::vector<std::string>& groupBy() const { return group_by_; }
  const std::map<WindowId, RefState>& windows() const { return windows_; }
  std::int64_t events() const { return events_; }  // events added to at least one window
  std::int64_t late() const { return late_; }

  // The windows the watermark `watermark_ms` fires (end <= watermark), or those it leaves open.
  std::size_t countFired(std::int64_t watermark_ms, bool fired = true) const {
    return static_cast<std::size_t>(
        std::count_if(windows_.begin(), windows_.end(),
                      [&](const auto& w) { return (w.first.end <= watermark_ms) == fired; }));
  }

 private:
  std::string pipeline_;
  std::vector<std::string> group_by_;
  std::int64_t size_;
  std::int64_t slide_;
  std::map<WindowId, RefState> windows_;
  std::int64_t events_ = 0;
  std::int64_t late_ = 0;
};

// Equal to 1e-9 relative (sums may be added up in another order than the reference's).
inline bool closeRelative(double got, double want) {
  if (got == want) return true;
  return std::abs(got - want) <= 1e-9 * std::max(std::abs(want), std::abs(got));
}

// top_k's expected array: largest count first, ties by item (numbers before strings, then by
// text, as rivulet orders items by their bytes), k of them; null without items.
inline std::string topKJson(const RefState& state, int k) {
  if (state.items.empty()) return "null";
  std::vector<std::pair<Item, std::int64_t>> top(state.items.begin(), state.items.end());
  std::stable_sort(top.begin(), top.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  top.resize(std::min(top.size(), static_cast<std::size_t>(k)));
  std::string json = "[";
  for (const auto& [item, count] : top) {
    if (json.size() > 1) json += ',';
    json += "[" + (item.is_string ? "\"" + item.text + "\"" : item.text) + "," +
            std::to_string(count) + "]";
  }
  return json + "]";
}

// Compares one result's values with the reference state: counts as integers, sum and avg to 1e-9
// relative, min/max/first/last exactly (they are input values, which round-trip), quantiles of up
// to 64 values as numpy's linear interpolation and of more within the sketch's 1% of the exact
// lower quantile, count_distinct and top_k exactly (tests keep to fewer distinct items than either
// counts exactly); null where no non-null value arrived.
inline void expectValuesMatch(const Result& got, const RefState& want,
                              const std::vector<AggregateSpec>& aggregates) {
  SCOPED_TRACE(got.topic + " " + got.payload);
  EXPECT_EQ(got.values.size(), aggregates.size());
  for (const AggregateSpec& a : aggregates) {
    const auto it = got.values.find(a.name);
    if (it == got.values.end()) {
      ADD_FAILURE() << "no value \"" << a.name << "\"";
      continue;
    }
    const JsonNumber& v = it->second;
    if (a.kind == Agg::kCount || a.kind == Agg::kCountDistinct) {
      EXPECT_EQ(v.type, JsonNumber::Type::kInteger) << a.name << ": a count is an integer";
      EXPECT_EQ(v.integer,
                a.kind == Agg::kCount ? want.count : static_cast<std::int64_t>(want.items.size()))
          << a.name;
      continue;
    }
    if (a.kind == Agg::kTopK) {
      const std::string expected = topKJson(want, a.k);
      EXPECT_EQ(v.type == JsonNumber::Type::kArray ? v.array : "null", expected) << a.name;
      continue;
    }
    if (want.n == 0) {
      EXPECT_EQ(v.type, JsonNumber::Type::kNull) << a.name << ": no input, expected null";
      continue;
    }
    if (v.type == JsonNumber::Type::kNull) {
      ADD_FAILURE() << a.name << " is null";
      continue;
    }
    switch (a.kind) {
      case Agg::kCount:
      case Agg::kCountDistinct:
      case Agg::kTopK:
        break;
      // Up to 64 values numpy's linear interpolation (up to numpy's rounding), beyond that the
      // lower quantile within 1%, with the sketch's rank convention
      // (pipeline/sketches/quantile_sketch.h).
      case Agg::kQuantile: {
        std::vector<double> sorted = want.values;
        std::sort(sorted.begin(), sorted.end());
        const double h = a.q * static_cast<double>(sorted.size() - 1);
        const auto r = static_cast<std::size_t>(h);
        const double x = sorted[r];
        if (sorted.size() <= 64) {
          const double y = sorted[std::min(r + 1, sorted.size() - 1)];
          const double t = h - static_cast<double>(r);
          const double numpy = t >= 0.5 ? y - (y - x) * (1 - t) : x + (y - x) * t;
          EXPECT_LE(std::abs(v.number - numpy), 1e-12 * std::max(std::abs(x), std::abs(y)))
              << a.name << " expected " << numpy << " got " << v.number;
        } else {
          EXPECT_LE(std::abs(v.number - x), 0.01 * (1 + 1e-9) * std::abs(x))
              << a.name << " expected " << x << " got " << v.number;
        }
        break;
      }
      case Agg::kSum:
        EXPECT_PRED2(closeRelative, v.number, want.sum) << a.name;
        break;
      case Agg::kAvg:
        EXPECT_PRED2(closeRelative, v.number, want.sum / static_cast<double>(want.n)) << a.name;
        break;
      case Agg::kMin:
        EXPECT_EQ(v.number, want.min) << a.name;
        break;
      case Agg::kMax:
        EXPECT_EQ(v.number, want.max) << a.name;
        break;
      case Agg::kFirst:
        EXPECT_EQ(v.number, want.first) << a.name;
        break;
      case Agg::kLast:
        EXPECT_EQ(v.number, want.last) << a.name;
        break;
    }
  }
}

// Compares the results of `reference`'s pipeline with kind `kind` against the reference windows
// `select` picks: the same set of (window, key), each once, with the right topic, key object and
// values.
inline void expectResultsMatch(const std::vector<Result>& results, std::string_view kind,
                               const WindowReference& reference,
                               const std::vector<AggregateSpec>& aggregates,
                               const std::function<bool(const WindowId&)>& select) {
  SCOPED_TRACE("pipeline " + reference.pipeline() + ", kind " + std::string(kind));
  std::map<WindowId, const Result*> got;
  for (const Result& r : results) {
    if (r.pipeline != reference.pipeline() || r.kind != kind) continue;
    WindowId id{r.start, r.end, {}};
    std::vector<std::string> fields;
    for (const auto& [field, value] : r.key) {
      fields.push_back(field);
      id.key.push_back(value);
    }
    EXPECT_EQ(fields, reference.groupBy()) << "key fields of " << r.payload;
    if (r.has_topic) {
      EXPECT_EQ(r.topic, reference.topic(id)) << r.payload;
    }
    if (!got.emplace(id, &r).second) ADD_FAILURE() << "duplicate result: " << r.payload;
  }
  std::size_t expected = 0, missing = 0;
  for (const auto& [id, state] : reference.windows()) {
    if (!select(id)) continue;
    ++expected;
    const auto it = got.find(id);
    if (it == got.end()) {
      if (++missing <= 10) {
        ADD_FAILURE() << "missing result " << reference.topic(id) << " [" << id.start << ", "
                      << id.end << ") count " << state.count;
      }
      continue;
    }
    expectValuesMatch(*it->second, state, aggregates);
    got.erase(it);
  }
  EXPECT_EQ(missing, 0u) << "of " << expected << " expected results";
  std::size_t extra = 0;
  for (const auto& [id, r] : got) {
    if (++extra <= 10) ADD_FAILURE() << "unexpected result: " << r->topic << " " << r->payload;
  }
  EXPECT_EQ(extra, 0u) << "unexpected results";
}

// seq starts at 1 and rises by 1 per message of each pipeline, in arrival order.
inline void expectSeqWithoutGaps(const std::vector<Result>& results) {
  std::map<std::string, std::int64_t> last;
  for (const Result& r : results) {
    std::int64_t& seq = last[r.pipeline];
    EXPECT_EQ(r.seq, seq + 1) << "seq gap or reorder at " << r.payload;
    seq = r.seq;
  }
}

}  // namespace rivulet::itest
