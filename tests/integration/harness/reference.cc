// The brute-force window reference and the comparison of results with it (reference.h).
#include "tests/integration/harness/reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace rivulet::testutil {

void RefState::add(std::int64_t ts, std::optional<double> value, const std::optional<Item>& item) {
  ++count;
  if (item) ++items[*item];
  if (!value) return;
  ++n;
  values.push_back(*value);
  sum += *value;
  min = std::min(min, *value);
  max = std::max(max, *value);
  if (ts < first_ts) {
    first_ts = ts;
    first = *value;
  }
  if (ts >= last_ts) {
    last_ts = ts;
    last = *value;
  }
}

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

WindowReference::WindowReference(std::string pipeline, std::vector<std::string> group_by,
                                 std::int64_t size_ms, std::int64_t slide_ms)
    : pipeline_(std::move(pipeline)),
      group_by_(std::move(group_by)),
      size_(size_ms),
      slide_(slide_ms) {}

bool WindowReference::add(std::int64_t ts_ms, const std::vector<std::string>& key,
                          std::optional<double> value, std::int64_t watermark_ms,
                          const std::optional<Item>& item) {
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

std::string WindowReference::topic(const WindowId& id) const {
  std::string topic = pipeline_ + "/";
  for (const std::string& part : id.key) topic += part + "/";
  return topic;
}

std::size_t WindowReference::countFired(std::int64_t watermark_ms, bool fired) const {
  return static_cast<std::size_t>(
      std::count_if(windows_.begin(), windows_.end(),
                    [&](const auto& w) { return (w.first.end <= watermark_ms) == fired; }));
}

bool closeRelative(double got, double want) {
  if (got == want) return true;
  return std::abs(got - want) <= 1e-9 * std::max(std::abs(want), std::abs(got));
}

std::string topKJson(const RefState& state, int k) {
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

void expectValuesMatch(const Result& got, const RefState& want,
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

void expectResultsMatch(const std::vector<Result>& results, std::string_view kind,
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

void expectSeqWithoutGaps(const std::vector<Result>& results) {
  std::map<std::string, std::int64_t> last;
  for (const Result& r : results) {
    std::int64_t& seq = last[r.pipeline];
    EXPECT_EQ(r.seq, seq + 1) << "seq gap or reorder at " << r.payload;
    seq = r.seq;
  }
}

}  // namespace rivulet::testutil
