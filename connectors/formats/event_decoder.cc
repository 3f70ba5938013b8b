#include "connectors/formats/event_decoder.h"

#include <cmath>

namespace rivulet::connectors {

EventDecoder::EventDecoder(pipeline::EventRouter& router, const config::SourceConfig& spec)
    : router_(router),
      generation_(router.generation()),
      fields_(router.plan().fields.size()),
      declared_(router.plan().declared) {
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
  fields_.assign(fields.size(), config::FieldValue{});
  declared_ = router_.plan().declared;
  if (json_) {
    json_.emplace(fields);
    return;
  }
  csv_.emplace(fields);
  columns_ = csv_->layout(columns_.columns);
}

bool EventDecoder::haveDeclaredTypes() noexcept {
  using config::FieldType;
  for (const auto& [index, kind] : declared_) {
    config::FieldValue& field = fields_[static_cast<std::size_t>(index)];
    if (field.type == config::FieldType::kMissing || field.type == config::FieldType::kNull)
      continue;
    switch (kind) {
      case config::FieldKind::kNumber:
        if (field.type != config::FieldType::kNumber) return false;
        break;
      case config::FieldKind::kInteger:
        // 5 and 5.0 are integers, 5.5 is not.
        if (field.type != config::FieldType::kNumber ||
            !(field.is_integer || std::trunc(field.number) == field.number)) {
          return false;
        }
        break;
      case config::FieldKind::kString:
        if (csv_ &&
            (field.type == config::FieldType::kNumber || field.type == config::FieldType::kBool)) {
          field.type = config::FieldType::kString;  // its text as written
        }
        if (field.type != config::FieldType::kString) return false;
        break;
      case config::FieldKind::kBool:
        if (csv_ && field.type == config::FieldType::kString &&
            (field.text == "true" || field.text == "false")) {
          field.type = config::FieldType::kBool;
        }
        if (field.type != config::FieldType::kBool) return false;
        break;
    }
  }
  return true;
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
