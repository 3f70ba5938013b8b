// SelectedOutput: an output of `outputs:` — the results of the pipelines it names (all, when it
// names none) handed on to the output it wraps, and counted.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/model/stats.h"
#include "pipeline/publisher.h"

namespace rivulet::connectors {

class SelectedOutput final : public pipeline::ResultOutput {
 public:
  // `pipelines`: by name, as results' topics start (`<pipeline>/...`); empty: every pipeline.
  SelectedOutput(std::unique_ptr<pipeline::ResultOutput> output, std::vector<std::string> pipelines)
      : output_(std::move(output)), pipelines_(std::move(pipelines)) {}

  void send(std::string_view topic, std::string_view payload) override {
    if (!selected(topic)) return;
    output_->send(topic, payload);
    pipeline::bump(sent_);
  }
  void idle() override { output_->idle(); }

  // Results handed on (the publisher's thread writes it; any thread reads it).
  const pipeline::Counter& sent() const noexcept { return sent_; }

 private:
  bool selected(std::string_view topic) const noexcept {
    if (pipelines_.empty()) return true;
    const std::string_view pipeline = topic.substr(0, topic.find('/'));
    for (const std::string& name : pipelines_) {
      if (name == pipeline) return true;
    }
    return false;
  }

  std::unique_ptr<pipeline::ResultOutput> output_;
  std::vector<std::string> pipelines_;
  pipeline::Counter sent_{0};
};

}  // namespace rivulet::connectors
