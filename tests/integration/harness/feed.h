// A feed of trades {ts, sym, px} for the tests of the source kinds (udp, zmq, csv, tcp clients):
// second by second with distinct times shuffled within each second (so no event is late and
// first/last have no ties), written as JSON or as CSV in any column order, with awkward symbols
// (a comma, a quote, blanks, UTF-8) and number forms; malformed input by the reason it must be
// counted under; a brute-force reference per pipeline; waiting on a source's counters.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/harness/http.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/reference.h"
#include "tests/integration/harness/subscriber.h"

namespace rivulet::itest {

inline constexpr std::int64_t kFeedBase = 1'700'000'000'000;  // ms, a whole second

struct Trade {
  std::int64_t ts = 0;
  std::string sym;
  std::optional<double> px;  // nullopt: no price (absent in JSON, an empty CSV field)
  std::string px_text;       // as written
};

inline const std::vector<AggregateSpec> kTradeAggregates = {
    {"n", Agg::kCount},  {"total", Agg::kSum},  {"low", Agg::kMin},    {"high", Agg::kMax},
    {"mean", Agg::kAvg}, {"open", Agg::kFirst}, {"close", Agg::kLast},
};

// YAML for a pipeline over `source`: per sym, 1 s tumbling windows, kTradeAggregates.
inline std::string tradePipeline(const std::string& name, const std::string& source) {
  return "  " + name + ":\n    from: " + source +
         "\n    group_by: [sym]\n    window: {tumbling: 1s}\n    aggregates:\n"
         "      n: count()\n      total: sum(px)\n      low: min(px)\n      high: max(px)\n"
         "      mean: avg(px)\n      open: first(px)\n      close: last(px)\n";
}

// JSON text of a string.
inline std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

inline std::string toJson(const Trade& t) {
  std::string json = "{\"ts\":" + std::to_string(t.ts) + ",\"sym\":" + jsonString(t.sym);
  if (t.px) json += ",\"px\":" + t.px_text;
  return json + "}";
}

// A CSV field: quoted when it must be (a comma, a quote, a line break, blanks at an end), and
// then with its quotes doubled.
inline std::string csvField(std::string_view value, bool quote = false) {
  quote = quote || value.find_first_of(",\"\r\n") != std::string_view::npos ||
          (!value.empty() && (value.front() == ' ' || value.back() == ' '));
  if (!quote) return std::string(value);
  std::string out = "\"";
  for (const char c : value) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// A row of `columns` (a permutation of ts, sym, px) from the raw field texts.
inline std::string csvRow(const std::vector<std::string>& columns, const std::string& ts,
                          const std::string& sym, const std::string& px) {
  std::string row;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) row += ',';
    row += columns[i] == "ts" ? ts : columns[i] == "sym" ? sym : px;
  }
  return row;
}

inline std::string toCsv(const Trade& t, const std::vector<std::string>& columns,
                         bool quote_all = false) {
  return csvRow(columns, csvField(std::to_string(t.ts), quote_all), csvField(t.sym, quote_all),
                t.px ? csvField(t.px_text, quote_all) : "");
}

// Input every source must refuse, with the reason it must be counted under; `ts` keeps each in
// the current second.
using Malformed = std::vector<std::pair<std::string, std::string>>;

inline Malformed malformedJson(std::int64_t ts) {
  const std::string t = std::to_string(ts);
  return {
      {"invalid_json", "not json at all"},
      {"invalid_json", "{\"ts\":" + t + ",\"sym\":\"AAPL\",\"px\":1.5"},
      {"not_object", "[1,2,3]"},
      {"missing_time", "{\"sym\":\"AAPL\",\"px\":1.5}"},
      {"bad_time", "{\"ts\":\"soon\",\"sym\":\"AAPL\",\"px\":1.5}"},
      {"missing_field", "{\"ts\":" + t + ",\"px\":1.5}"},
      {"wrong_type", "{\"ts\":" + t + ",\"sym\":\"AAPL\",\"px\":\"12.5\"}"},
  };
}

inline Malformed malformedCsv(std::int64_t ts, const std::vector<std::string>& columns) {
  const std::string t = std::to_string(ts);
  std::vector<std::string> short_columns(columns.begin(), columns.end() - 1);
  std::vector<std::string> long_columns = columns;
  long_columns.push_back("px");
  return {
      {"invalid_csv", csvRow(columns, t, "AA\"PL", "1.5")},     // a quote inside a field
      {"invalid_csv", csvRow(columns, t, "\"AAPL\"x", "1.5")},  // text after the closing quote
      {"invalid_csv", csvRow(columns, t, "\"AAPL", "1.5")},     // unterminated
      {"wrong_column_count", csvRow(short_columns, t, "AAPL", "1.5")},
      {"wrong_column_count", csvRow(long_columns, t, "AAPL", "1.5")},
      {"missing_time", csvRow(columns, "", "AAPL", "1.5")},
      {"bad_time", csvRow(columns, "soon", "AAPL", "1.5")},
      {"missing_field", csvRow(columns, t, "", "1.5")},
      {"wrong_type", csvRow(columns, t, "AAPL", "cheap")},
  };
}

// The trades of one pipeline and its reference.
class TradeFeed {
 public:
  TradeFeed(std::string pipeline, std::uint64_t seed)
      : reference_(std::move(pipeline), {"sym"}, 1000, 1000), rng_(seed) {}

  // `count` trades of second `second` (distinct times, shuffled), added to the reference.
  std::vector<Trade> second(int second, int count) {
    static const std::vector<std::string> kSymbols = {"AAPL",  "MSFT",      "A,B", "Q\"T",
                                                      " pad ", "Z\xc3\xa9", "IBM"};
    std::vector<int> offsets(1000);
    for (int i = 0; i < 1000; ++i) offsets[static_cast<std::size_t>(i)] = i;
    std::shuffle(offsets.begin(), offsets.end(), rng_);
    std::vector<Trade> trades;
    for (int i = 0; i < count; ++i) {
      Trade t;
      t.ts = kFeedBase + second * 1000 + offsets[static_cast<std::size_t>(i)];
      t.sym = kSymbols[rng_() % kSymbols.size()];
      const std::uint64_t form = rng_() % 20;
      if (form > 0) {
        char text[32];
        const double px = 10 + static_cast<double>(rng_() % 100000) / 977;
        std::snprintf(text, sizeof text, form < 3 ? "%.4e" : form < 6 ? "%.0f" : "%.3f", px);
        t.px_text = text;
        t.px = std::strtod(text, nullptr);
      }
      add(t);
      trades.push_back(std::move(t));
    }
    return trades;
  }

  // A trade far ahead: its watermark fires every window before it.
  Trade farFuture() {
    Trade t{kFarFuture, "AAPL", 1.0, "1.0"};
    add(t);
    return t;
  }

  // A trade sent besides those second() made.
  void add(const Trade& t) {
    reference_.add(t.ts, {t.sym}, t.px);
    ++accepted_;
  }

  static constexpr std::int64_t kFarFuture = kFeedBase + 3'600'000;
  const WindowReference& reference() const { return reference_; }
  std::int64_t accepted() const { return accepted_; }
  std::mt19937_64& rng() { return rng_; }

  // The final results of this pipeline match the reference: every window the far-future trade
  // closed, or with `all` (at the end of a bounded input) every window.
  void expectFinalsMatch(const std::vector<Result>& results, bool all = false) const {
    expectResultsMatch(results, "final", reference_, kTradeAggregates,
                       [all](const WindowId& w) { return all || w.end <= kFarFuture; });
  }

 private:
  WindowReference reference_;
  std::mt19937_64 rng_;
  std::int64_t accepted_ = 0;
};

// Result messages among `messages` (not the _window/ and _late/ control topics).
inline std::size_t countResults(const std::vector<Message>& messages) {
  return static_cast<std::size_t>(
      std::count_if(messages.begin(), messages.end(),
                    [](const Message& m) { return m.topic.rfind('_', 0) != 0; }));
}

// What a source counted: accepted, refused (every reason) and dropped.
inline double countedBy(const Metrics& m, const std::string& source) {
  double n = m.valueOr0("rivulet_source_events_total", {{"source", source}}) +
             m.valueOr0("rivulet_source_dropped_total", {{"source", source}});
  for (const Sample& s : m.all("rivulet_source_errors_total")) {
    if (s.labels.at("source") == source) n += s.value;
  }
  return n;
}

// Scrapes until `source` has counted `n` inputs; the last scrape, or a failure.
inline ::testing::AssertionResult waitCounted(const Daemon& daemon, const std::string& source,
                                              std::int64_t n, Metrics* last = nullptr) {
  std::string error;
  const auto m = daemon.scrapeUntil(
      [&](const Metrics& m) { return countedBy(m, source) >= static_cast<double>(n); }, 30s,
      &error);
  if (!m) return ::testing::AssertionFailure() << "cannot scrape /metrics: " << error;
  if (last != nullptr) *last = *m;
  if (countedBy(*m, source) != static_cast<double>(n)) {
    return ::testing::AssertionFailure()
           << "source " << source << " counted " << countedBy(*m, source) << " inputs of " << n;
  }
  return ::testing::AssertionSuccess();
}

// The source's counters: `events` accepted, exactly `errors` by reason (every other reason 0),
// nothing dropped.
inline void expectSourceCounters(const Metrics& m, const std::string& source, std::int64_t events,
                                 const std::map<std::string, std::int64_t>& errors) {
  SCOPED_TRACE("source " + source);
  EXPECT_EQ(m.value("rivulet_source_events_total", {{"source", source}}),
            static_cast<double>(events));
  EXPECT_EQ(m.value("rivulet_source_dropped_total", {{"source", source}}), 0.0);
  std::size_t reasons = 0;
  for (const Sample& s : m.all("rivulet_source_errors_total")) {
    if (s.labels.at("source") != source) continue;
    ++reasons;
    const auto it = errors.find(s.labels.at("reason"));
    EXPECT_EQ(s.value, it == errors.end() ? 0.0 : static_cast<double>(it->second))
        << s.labels.at("reason");
  }
  EXPECT_GT(reasons, 0u) << "no error counters exported";
  for (const auto& [reason, n] : errors) {
    EXPECT_TRUE(m.value("rivulet_source_errors_total", {{"source", source}, {"reason", reason}}))
        << "no counter for " << reason;
  }
}

}  // namespace rivulet::itest
