// The trade feed of the source-kind tests (feed.h).
#include "tests/integration/harness/feed.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace rivulet::testutil {

using namespace std::chrono_literals;

std::string tradePipeline(const std::string& name, const std::string& source) {
  return "  " + name + ":\n    from: " + source +
         "\n    group_by: [sym]\n    window: {tumbling: 1s}\n" + kTradeAggregatesYaml;
}

std::string hopPipeline(const std::string& name, const std::string& source) {
  return "  " + name + ":\n    from: " + source +
         "\n    window: {hopping: {size: 3s, slide: 1s}}\n    aggregates:\n"
         "      n: count()\n      total: sum(px)\n      open: first(px)\n      close: last(px)\n";
}

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string toJson(const Trade& t) {
  std::string json = "{\"ts\":" + std::to_string(t.ts) + ",\"sym\":" + jsonString(t.sym);
  if (t.px) json += ",\"px\":" + t.px_text;
  return json + "}";
}

std::string csvField(std::string_view value, bool quote) {
  quote = quote || value.find_first_of(",\"\r\n") != std::string_view::npos ||
          (!value.empty() && (value.front() == ' ' || value.back() == ' '));
  if (!quote) return std::string(value);
  std::string out = "\"";
  for (const char c : value) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csvRow(const std::vector<std::string>& columns, const std::string& ts,
                   const std::string& sym, const std::string& px) {
  std::string row;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) row += ',';
    row += columns[i] == "ts" ? ts : columns[i] == "sym" ? sym : px;
  }
  return row;
}

std::string toCsv(const Trade& t, const std::vector<std::string>& columns, bool quote_all) {
  return csvRow(columns, csvField(std::to_string(t.ts), quote_all), csvField(t.sym, quote_all),
                t.px ? csvField(t.px_text, quote_all) : "");
}

Malformed malformedJson(std::int64_t ts) {
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

Malformed malformedCsv(std::int64_t ts, const std::vector<std::string>& columns) {
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

TradeFeed::TradeFeed(std::string pipeline, std::uint64_t seed)
    : reference_(std::move(pipeline), {"sym"}, 1000, 1000), rng_(seed) {}

std::vector<Trade> TradeFeed::second(int second, int count) {
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

Trade TradeFeed::farFuture() {
  Trade t{kFarFuture, "AAPL", 1.0, "1.0"};
  add(t);
  return t;
}

void TradeFeed::add(const Trade& t) {
  reference_.add(t.ts, {t.sym}, t.px);
  ++accepted_;
}

void TradeFeed::expectFinalsMatch(const std::vector<Result>& results, bool all) const {
  expectResultsMatch(results, "final", reference_, kTradeAggregates,
                     [all](const WindowId& w) { return all || w.end <= kFarFuture; });
}

double countedBy(const Metrics& m, const std::string& source) {
  double n = m.valueOr0("rivulet_source_events_total", {{"source", source}}) +
             m.valueOr0("rivulet_source_dropped_total", {{"source", source}});
  for (const Sample& s : m.all("rivulet_source_errors_total")) {
    if (s.labels.at("source") == source) n += s.value;
  }
  return n;
}

::testing::AssertionResult waitCounted(const Daemon& daemon, const std::string& source,
                                       std::int64_t n, Metrics* last) {
  std::string error;
  const auto m = daemon.scrapeUntil(
      [&](const Metrics& scraped) { return countedBy(scraped, source) >= static_cast<double>(n); },
      30s, &error);
  if (!m) return ::testing::AssertionFailure() << "cannot scrape /metrics: " << error;
  if (last != nullptr) *last = *m;
  if (countedBy(*m, source) != static_cast<double>(n)) {
    return ::testing::AssertionFailure()
           << "source " << source << " counted " << countedBy(*m, source) << " inputs of " << n;
  }
  return ::testing::AssertionSuccess();
}

void expectSourceCounters(const Metrics& m, const std::string& source, std::int64_t events,
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

}  // namespace rivulet::testutil
