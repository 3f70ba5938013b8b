// Field values for the tests (field_values.h).
#include "tests/support/field_values.h"

#include <deque>
#include <string>

namespace rivulet::testutil {
namespace {

// Owns the text a FieldValue views.
std::string_view keep(std::string_view text) {
  static std::deque<std::string> texts;
  return texts.emplace_back(text);
}

config::FieldValue ofType(config::FieldType type, std::string_view text = {}) {
  config::FieldValue f;
  f.type = type;
  f.text = keep(text);
  return f;
}

}  // namespace

config::FieldValue number(double value, std::string_view text) {
  config::FieldValue f = ofType(config::FieldType::kNumber, text);
  f.number = value;
  return f;
}

config::FieldValue integer(std::int64_t value) {
  config::FieldValue f = number(static_cast<double>(value), std::to_string(value));
  f.is_integer = true;
  f.integer = value;
  return f;
}

config::FieldValue str(std::string_view text) { return ofType(config::FieldType::kString, text); }

config::FieldValue strViewing(std::string_view text) {
  config::FieldValue f;
  f.type = config::FieldType::kString;
  f.text = text;
  return f;
}

config::FieldValue boolean(bool value) {
  return ofType(config::FieldType::kBool, value ? "true" : "false");
}

config::FieldValue null() { return ofType(config::FieldType::kNull); }

config::FieldValue missing() { return config::FieldValue{}; }

config::FieldValue other() { return ofType(config::FieldType::kOther); }

}  // namespace rivulet::testutil
