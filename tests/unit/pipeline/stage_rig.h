// StageRig: pipeline "counts" and one Stage over fresh rings, built as the engine builds them and
// fed with hand-made records; and the reading of the results the stage sends.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/aggregates/aggregate.h"
#include "pipeline/model/plan.h"
#include "pipeline/stage.h"
#include "tests/support/plans.h"
#include "tests/support/printers.h"
#include "tests/support/rings.h"
#include "tests/support/wait.h"
#include "tests/unit/pipeline/hand_records.h"

namespace rivulet::testutil {

constexpr std::int64_t ms(std::int64_t n) { return n * kMs; }

// "counts": count() as n, sum(v) as s, by k, windows of 1 s every `slide`, reading `sources`
// sources. The inputs ring the stage's doorbell, as a source does, so a stage on its own thread
// wakes at once.
class StageRig {
 public:
  explicit StageRig(std::size_t sources = 1, bool late_topic = false,
                    std::int64_t slide = ms(1000)) {
    for (std::size_t s = 0; s < sources; ++s) {
      config::SourceConfig source;
      source.name = "s" + std::to_string(s);
      config_.sources.push_back(source);
    }
    config::PipelineConfig counts =
        pipelineConfig("counts", "s0", {"k"},
                       {aggregate("n", config::AggregateKind::kCount),
                        aggregate("s", config::AggregateKind::kSum, "v")});
    for (std::size_t s = 1; s < sources; ++s) counts.from.push_back("s" + std::to_string(s));
    counts.late_topic = late_topic;
    if (slide != ms(1000)) counts.window = {config::WindowKind::kHopping, ms(1000), slide};
    config_.pipelines.push_back(counts);
    plans_.push_back(pipeline::compilePipeline(config_, 0));
    aggregates_.emplace_back(plans_[0].aggregates, plans_[0].value_index);
    std::vector<pipeline::Ring*> inputs;
    for (std::size_t s = 0; s < sources; ++s) {
      inputs_.push_back(std::make_unique<pipeline::Ring>(1 << 12));
      inputs.push_back(inputs_.back().get());
    }
    stage_ = std::make_unique<pipeline::Stage>(plans_, aggregates_, inputs, output_,
                                               std::vector<pipeline::PipelineStageStats*>{&stats_});
    for (auto& input : inputs_) {
      senders_.push_back(std::make_unique<RecordSender>(*input, &stage_->doorbell()));
    }
  }

  RecordSender& input(std::size_t source = 0) { return *senders_[source]; }
  pipeline::Stage& stage() { return *stage_; }
  // The ring to the publisher; the test thread is its consumer.
  pipeline::Ring& output() { return output_; }
  const pipeline::PipelineStageStats& stats() const { return stats_; }

  // Runs the stage over what the inputs hold (each must end) and returns what it sent.
  std::vector<OutRecord> run() {
    stage_->run();
    return readAll(output_);
  }

 private:
  config::Config config_;
  std::vector<pipeline::PipelinePlan> plans_;
  std::vector<pipeline::Aggregates> aggregates_;
  std::vector<std::unique_ptr<pipeline::Ring>> inputs_;
  std::vector<std::unique_ptr<RecordSender>> senders_;
  pipeline::Ring output_{1 << 16};
  pipeline::PipelineStageStats stats_;
  std::unique_ptr<pipeline::Stage> stage_;
};

// The tail a result of key k of window [start, end) (ms) carries.
inline std::string tail(const char* kind, std::int64_t start, std::int64_t end, const char* k,
                        int n, const char* s) {
  return std::string("\"kind\":\"") + kind + "\",\"start\":" + std::to_string(start) +
         ",\"end\":" + std::to_string(end) + ",\"key\":{\"k\":\"" + k +
         "\"},\"values\":{\"n\":" + std::to_string(n) + ",\"s\":" + s + "}}";
}

inline std::vector<pipeline::RecordType> types(const std::vector<OutRecord>& records) {
  std::vector<pipeline::RecordType> out;
  for (const OutRecord& r : records) out.push_back(r.type());
  return out;
}

// The results among `records`, as topic + tail.
inline std::vector<std::string> results(const std::vector<OutRecord>& records) {
  std::vector<std::string> out;
  for (const OutRecord& r : records) {
    if (r.type() == pipeline::RecordType::kResult) {
      out.push_back(std::string(r.topic()) + std::string(r.tail()));
    }
  }
  return out;
}

}  // namespace rivulet::testutil
