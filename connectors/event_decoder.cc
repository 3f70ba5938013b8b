#include "connectors/event_decoder.h"

namespace rivulet::connectors {

EventDecoder::EventDecoder(pipeline::EventRouter& router, const config::SourceConfig& spec)
    : router_(router), generation_(router.generation()), fields_(router.plan().fields.size()) {
  if (spec.format == config::Format::kJson) {
    json_.emplace(router.plan().fields);
    return;
  }
  csv_.emplace(router.plan().fields);
  header_ = spec.csv.header;
  columns_from_config_ = !spec.csv.columns.empty();
  columns_ = csv_->layout(spec.csv.columns);
}

void EventDecoder::replan() {
  const std::vector<std::string>& fields = router_.plan().fields;
  generation_ = router_.generation();
  fields_.assign(fields.size(), pipeline::FieldValue{});
  if (json_) {
    json_.emplace(fields);
    return;
  }
  csv_.emplace(fields);
  columns_ = csv_->layout(columns_.columns);
}

void EventDecoder::readHeader(Stream& stream, std::string_view text) {
  if (columns_from_config_) {
    stream.header_read = true;
    return;
  }
  const pipeline::ErrorReason reason = csv_->parseHeader(text, stream.layout);
  if (reason != pipeline::ErrorReason::kNone) {
    router_.refuse(reason);
    return;
  }
  stream.header_read = true;
  stream.generation = generation_;
}

}  // namespace rivulet::connectors
