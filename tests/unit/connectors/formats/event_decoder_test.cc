// EventDecoder: lines and messages in either format into routed events; CSV headers per stream
// (each tcp connection names its own column order), a malformed header counted and the next line
// read as the header, a header skipped when the config names the columns, and a live reload that
// changes the fields to extract (each stream's columns mapped again from the header it sent).
#include "connectors/formats/event_decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "connectors/formats/line_framer.h"
#include "pipeline/checkpoint_board.h"
#include "pipeline/reconfiguration.h"
#include "tests/support/plans.h"
#include "tests/support/printers.h"
#include "tests/support/rings.h"

namespace rivulet::connectors {
namespace {

using pipeline::ErrorReason;

constexpr std::int64_t kNow = 1'700'000'000'000 * testutil::kMs;

class Decoder {
 public:
  explicit Decoder(config::Format format, std::vector<std::string> columns = {},
                   bool header = false, std::vector<config::DeclaredField> fields = {})
      : rings_(1, 1 << 12) {
    config::SourceConfig source;
    source.name = "s";
    source.kind = config::SourceKind::kTcp;
    source.format = format;
    source.csv.columns = std::move(columns);
    source.csv.header = header;
    source.fields = std::move(fields);
    source.time = config::TimeSpec{"ts", config::TimeUnit::kMillis};
    config_.sources.push_back(source);
    config_.pipelines.push_back(testutil::pipelineConfig(
        "p", "s", {"sym"}, {testutil::aggregate("t", config::AggregateKind::kSum, "px")}));
    router_ = std::make_unique<pipeline::EventRouter>(testutil::planFor(config_), rings_.pointers(),
                                                      stats_);
    router_->joinCheckpoints(board_, 0);
    decoder_ = std::make_unique<EventDecoder>(*router_, config_.sources[0]);
  }

  // Hands `text` over as a line source does: with padding after it.
  void line(EventDecoder::Stream& stream, const std::string& text) {
    buffer_ = text;
    buffer_.resize(text.size() + LineFramer::kPadding);
    decoder_->line(stream, std::string_view(buffer_.data(), text.size()), buffer_.size(), kNow);
  }
  void message(const std::string& text) {
    buffer_ = text;
    buffer_.resize(text.size() + LineFramer::kPadding);
    decoder_->message(std::string_view(buffer_.data(), text.size()), buffer_.size(), kNow);
  }

  // (sym, px) of every event routed so far.
  std::vector<std::pair<std::string, double>> events() {
    router_->flush(kNow, 1);
    rings_.drain();
    std::vector<std::pair<std::string, double>> out;
    for (const testutil::Record& r : rings_.events(0))
      out.emplace_back(testutil::keyParts(r.key(1)).at(0).second, r.value(0));
    return out;
  }
  // A live reload adding pipeline "v", keyed by venue (a field nothing read before), ahead of
  // "p": the router switches at the barrier it sends, the decoder at its next line.
  void reload() {
    config::Config next = config_;
    next.pipelines.insert(
        next.pipelines.begin(),
        testutil::pipelineConfig("v", "s", {"venue"},
                                 {testutil::aggregate("t", config::AggregateKind::kSum, "px")}));
    for (std::size_t i = 0; i < next.pipelines.size(); ++i)
      plans_.push_back(pipeline::compilePipeline(next, i));
    change_.plans = plans_;
    change_.previous = {-1, 0};
    change_.sources = {pipeline::planSource(next, 0, plans_)};
    board_.request(board_.nextId(), &change_);
    router_->flush(kNow, 1);
    ASSERT_EQ(router_->generation(), 1u);
  }

  // (key, px) of the events of `pipeline` routed since the `barriers`-th barrier.
  std::vector<std::pair<std::string, double>> eventsAfter(std::size_t barriers,
                                                          std::uint16_t pipeline) {
    router_->flush(kNow, 1);
    rings_.drain();
    std::vector<std::pair<std::string, double>> out;
    std::size_t seen = 0;
    for (const testutil::Record& r : rings_.records(0)) {
      seen += r.type() == pipeline::RecordType::kBarrier;
      if (seen == barriers && r.type() == pipeline::RecordType::kEvent &&
          r.header.pipeline == pipeline) {
        out.emplace_back(testutil::keyParts(r.key(1)).at(0).second, r.value(0));
      }
    }
    return out;
  }

  std::uint64_t errors(ErrorReason reason) const { return testutil::errors(stats_, reason); }
  std::uint64_t totalErrors() const { return testutil::totalErrors(stats_); }

 private:
  config::Config config_;
  pipeline::SourceStats stats_;
  testutil::RingSet rings_;
  pipeline::CheckpointBoard board_{1, 1, false};
  std::vector<pipeline::PipelinePlan> plans_;  // after reload()
  pipeline::Reconfiguration change_;
  std::unique_ptr<pipeline::EventRouter> router_;
  std::unique_ptr<EventDecoder> decoder_;
  std::string buffer_;
};

using Events = std::vector<std::pair<std::string, double>>;

TEST(EventDecoder, JsonLinesAndMessages) {
  Decoder d(config::Format::kJson);
  EventDecoder::Stream stream;
  d.line(stream, R"({"ts":1,"sym":"A","px":1.5})");
  d.message("{\"ts\":2,\"sym\":\"B\",\"px\":2}\n");
  d.line(stream, "1,A,1.5");
  EXPECT_EQ(d.events(), (Events{{"A", 1.5}, {"B", 2}}));
  EXPECT_EQ(d.errors(ErrorReason::kInvalidJson), 1u);
}

config::DeclaredField declared(std::string field, config::FieldKind kind) {
  return {config::FieldPath{{std::move(field)}}, kind};
}

// A declared field's value of another type refuses the event at the source (null and missing
// pass); integer takes 5 and 5.0, not 5.5; JSON's types are strict.
TEST(EventDecoder, DeclaredTypesAreCheckedPerEvent) {
  Decoder d(
      config::Format::kJson, {}, false,
      {declared("sym", config::FieldKind::kString), declared("px", config::FieldKind::kNumber),
       declared("qty", config::FieldKind::kInteger), declared("ok", config::FieldKind::kBool)});
  EventDecoder::Stream stream;
  d.line(stream, R"({"ts":1,"sym":"A","px":1.5,"qty":5,"ok":true})");
  d.line(stream, R"({"ts":2,"sym":7,"px":1})");
  d.line(stream, R"({"ts":3,"sym":"B","px":"1"})");
  d.line(stream, R"({"ts":4,"sym":"C","px":null})");
  d.line(stream, R"({"ts":5,"sym":"D","px":2,"qty":5.0})");
  d.line(stream, R"({"ts":6,"sym":"E","px":2,"qty":5.5})");
  d.line(stream, R"({"ts":7,"sym":"F","px":2,"ok":"true"})");
  const Events events = d.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0], (std::pair<std::string, double>{"A", 1.5}));
  EXPECT_EQ(events[1].first, "C");
  EXPECT_TRUE(std::isnan(events[1].second));
  EXPECT_EQ(events[2], (std::pair<std::string, double>{"D", 2}));
  EXPECT_EQ(d.errors(ErrorReason::kWrongType), 4u);
  EXPECT_EQ(d.totalErrors(), 4u);
}

// CSV values are typed by their text: a declared string takes a number's text, a declared bool
// the texts true and false.
TEST(EventDecoder, DeclaredTypesOfCsvColumnsTakeTheirText) {
  Decoder d(
      config::Format::kCsv, {"ts", "sym", "px", "ok"}, false,
      {declared("sym", config::FieldKind::kString), declared("ok", config::FieldKind::kBool)});
  EventDecoder::Stream stream;
  d.line(stream, "1,007,1.5,true");
  d.line(stream, "2,12,2,false");
  d.line(stream, "3,X,3,yes");
  EXPECT_EQ(d.events(), (Events{{"007", 1.5}, {"12", 2}}));
  EXPECT_EQ(d.errors(ErrorReason::kWrongType), 1u);
}

TEST(EventDecoder, CsvColumnsFromTheConfig) {
  Decoder d(config::Format::kCsv, {"px", "ts", "sym"});
  EventDecoder::Stream stream;
  d.line(stream, "1.5,1,A");
  d.message("2,2,B\r\n");  // a message's line break is not part of its row
  d.message("3,3,\"C\"\n");
  d.line(stream, "px,ts,sym");  // without header: true, a header is a row (px is no number)
  EXPECT_EQ(d.events(), (Events{{"A", 1.5}, {"B", 2}, {"C", 3}}));
  EXPECT_EQ(d.errors(ErrorReason::kBadTime), 1u);
}

TEST(EventDecoder, EachStreamNamesItsOwnColumns) {
  Decoder d(config::Format::kCsv, {}, true);
  EventDecoder::Stream one, two;
  d.line(one, "ts,sym,px");
  d.line(two, "px , \"sym\",extra,ts");
  d.line(one, "1,A,1.5");
  d.line(two, "2.5,B,x,2");
  d.line(one, "3,C,3.5");
  d.line(two, "4.5,D,y");  // three fields where its header has four
  EXPECT_EQ(d.events(), (Events{{"A", 1.5}, {"B", 2.5}, {"C", 3.5}}));
  EXPECT_EQ(d.errors(ErrorReason::kWrongColumnCount), 1u);
  EXPECT_EQ(d.totalErrors(), 1u) << "headers are neither events nor errors";
}

TEST(EventDecoder, MalformedHeaderIsCountedAndTheNextLineIsTheHeader) {
  Decoder d(config::Format::kCsv, {}, true);
  EventDecoder::Stream stream;
  d.line(stream, "ts,\"sym");
  d.line(stream, "sym,ts,px");
  d.line(stream, "A,1,1.5");
  EXPECT_EQ(d.events(), (Events{{"A", 1.5}}));
  EXPECT_EQ(d.errors(ErrorReason::kInvalidCsv), 1u);
}

TEST(EventDecoder, HeaderIsSkippedWhenTheConfigNamesTheColumns) {
  Decoder d(config::Format::kCsv, {"ts", "sym", "px"}, true);
  EventDecoder::Stream stream;
  d.line(stream, "time,\"symbol\",price in $");
  d.line(stream, "1,A,1.5");
  EXPECT_EQ(d.events(), (Events{{"A", 1.5}}));
  EXPECT_EQ(d.totalErrors(), 0u);
}

TEST(EventDecoder, AReloadReadsEachStreamWithTheNewFieldsFromItsOwnHeader) {
  Decoder d(config::Format::kCsv, {}, true);
  EventDecoder::Stream one, two;
  d.line(one, "ts,venue,sym,px");
  d.line(two, "px,sym,ts,venue");
  d.line(one, "1,X,A,1.5");
  d.line(two, "2.5,B,2,Y");
  d.reload();
  d.line(one, "3,Z,C,3.5");
  d.line(two, "4.5,D,4,W");
  EventDecoder::Stream three;  // a stream that starts after the reload
  d.line(three, "venue,px,ts,sym");
  d.line(three, "V,5.5,5,E");
  EXPECT_EQ(d.eventsAfter(0, 0), (Events{{"A", 1.5}, {"B", 2.5}}));              // p, before
  EXPECT_EQ(d.eventsAfter(1, 1), (Events{{"C", 3.5}, {"D", 4.5}, {"E", 5.5}}));  // p, after
  EXPECT_EQ(d.eventsAfter(1, 0), (Events{{"Z", 3.5}, {"W", 4.5}, {"V", 5.5}}));  // v
  EXPECT_EQ(d.totalErrors(), 0u);
}

TEST(EventDecoder, AReloadChangesTheJsonFieldsExtracted) {
  Decoder d(config::Format::kJson);
  EventDecoder::Stream stream;
  d.line(stream, R"({"ts":1,"venue":"X","sym":"A","px":1.5})");
  d.reload();
  d.message(R"({"ts":2,"venue":"Y","sym":"B","px":2.5})");
  EXPECT_EQ(d.eventsAfter(0, 0), (Events{{"A", 1.5}}));
  EXPECT_EQ(d.eventsAfter(1, 0), (Events{{"Y", 2.5}}));
  EXPECT_EQ(d.eventsAfter(1, 1), (Events{{"B", 2.5}}));
}

}  // namespace
}  // namespace rivulet::connectors
