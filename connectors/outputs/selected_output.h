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
  void sendMarker(std::string_view topic, std::string_view payload) override {
    // `_window/<pipeline>/` and `_late/<pipeline>/`: the pipeline is the second segment.
    const std::size_t slash = topic.find('/');
    if (slash == std::string_view::npos || !selected(topic.substr(slash + 1))) return;
    output_->sendMarker(topic, payload);
  }
  void idle() override { output_->idle(); }
  void finish() override { output_->finish(); }
  std::uint64_t position() const override { return output_->position(); }
  bool safeThrough(std::uint64_t position) const override { return output_->safeThrough(position); }

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
