#include "connectors/json_event_parser.h"

namespace rivulet::connectors {

using pipeline::ErrorReason;
using pipeline::FieldType;
using pipeline::FieldValue;
namespace od = simdjson::ondemand;

namespace {

// On-demand documents report OUT_OF_BOUNDS for the location once everything was consumed.
bool atEnd(od::document& doc) noexcept {
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

// Checks a scalar nobody reads, so that `{"a":tru}` is malformed wherever it stands.
bool validScalar(od::value& value, od::json_type type) noexcept {
  switch (type) {
    case od::json_type::number: {
      double d;
      return !value.get_double().get(d);  // also accepts integers beyond 64 bits
    }
    case od::json_type::boolean: {
      bool b;
      return !value.get_bool().get(b);
    }
    case od::json_type::null: {
      bool is_null = false;
      return !value.is_null().get(is_null) && is_null;
    }
    case od::json_type::string: {
      std::string_view s;
      return !value.get_string().get(s);
    }
    default:
      return true;  // objects and arrays: skipped with a structural check
  }
}

}  // namespace

JsonEventParser::JsonEventParser(std::vector<std::string> fields) : fields_(std::move(fields)) {}

int JsonEventParser::fieldOf(std::string_view key) const noexcept {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i] == key) return static_cast<int>(i);
  }
  return -1;
}

ErrorReason JsonEventParser::parse(std::string_view line, std::size_t capacity,
                                   std::span<FieldValue> out) noexcept {
  for (FieldValue& f : out) f = FieldValue{};
  od::document doc;
  if (parser_.iterate(simdjson::padded_string_view(line.data(), line.size(), capacity)).get(doc))
    return ErrorReason::kInvalidJson;
  od::json_type type;
  if (doc.type().get(type)) return ErrorReason::kInvalidJson;
  if (type != od::json_type::object) {
    // Tell a well-formed non-object (not_object) from garbage (invalid_json): read it whole.
    bool valid = true;
    switch (type) {
      case od::json_type::array: {
        od::array array;
        valid = !doc.get_array().get(array);
        if (!valid) break;
        for (auto element : array) {
          if (element.error()) {
            valid = false;
            break;
          }
        }
        break;
      }
      case od::json_type::number: {
        double d;
        valid = !doc.get_double().get(d);
        break;
      }
      case od::json_type::boolean: {
        bool b;
        valid = !doc.get_bool().get(b);
        break;
      }
      case od::json_type::null: {
        bool is_null = false;
        valid = !doc.is_null().get(is_null) && is_null;
        break;
      }
      case od::json_type::string: {
        std::string_view text;
        valid = !doc.get_string().get(text);
        break;
      }
      default:
        valid = false;
    }
    if (!valid || !atEnd(doc)) return ErrorReason::kInvalidJson;
    return ErrorReason::kNotObject;
  }
  od::object object;
  if (doc.get_object().get(object)) return ErrorReason::kInvalidJson;
  for (auto member : object) {
    od::field field;
    if (std::move(member).get(field)) return ErrorReason::kInvalidJson;
    std::string_view key;
    if (field.unescaped_key().get(key)) return ErrorReason::kInvalidJson;
    const int index = fieldOf(key);
    od::value value = field.value();
    od::json_type value_type;
    if (value.type().get(value_type)) return ErrorReason::kInvalidJson;
    if (index < 0 || out[index].type != FieldType::kMissing) {
      // Not needed, or a repeated key (the first one wins).
      if (!validScalar(value, value_type)) return ErrorReason::kInvalidJson;
      continue;
    }
    FieldValue& f = out[index];
    switch (value_type) {
      case od::json_type::number: {
        od::number number;
        f.type = FieldType::kNumber;
        if (const auto error = value.get_number().get(number); !error) {
          if (number.is_int64()) {
            f.is_integer = true;
            f.integer = number.get_int64();
          }
          f.number = number.as_double();
        } else if (value.get_double().get(f.number)) {
          return ErrorReason::kInvalidJson;  // integers beyond 64 bits are read as doubles
        }
        f.text = value.raw_json_token();
        while (!f.text.empty() && static_cast<unsigned char>(f.text.back()) <= ' ')
          f.text.remove_suffix(1);
        break;
      }
      case od::json_type::string:
        if (value.get_string().get(f.text)) return ErrorReason::kInvalidJson;
        f.type = FieldType::kString;
        break;
      case od::json_type::boolean: {
        bool b;
        if (value.get_bool().get(b)) return ErrorReason::kInvalidJson;
        f.type = FieldType::kBool;
        f.text = b ? "true" : "false";
        break;
      }
      case od::json_type::null: {
        bool is_null = false;
        if (value.is_null().get(is_null) || !is_null) return ErrorReason::kInvalidJson;
        f.type = FieldType::kNull;
        break;
      }
      default:
        f.type = FieldType::kOther;  // skipped by the iteration; structurally checked
        break;
    }
  }
  return atEnd(doc) ? ErrorReason::kNone : ErrorReason::kInvalidJson;
}

ErrorReason JsonEventParser::parseCopy(std::string_view line, std::span<FieldValue> out) {
  copy_.assign(line);
  copy_.resize(line.size() + simdjson::SIMDJSON_PADDING);
  return parse(std::string_view(copy_.data(), line.size()), copy_.size(), out);
}

}  // namespace rivulet::connectors
