#include "connectors/formats/json_event_parser.h"

#include <algorithm>
#include <cstring>

namespace rivulet::connectors {

using config::FieldType;
using config::FieldValue;
using pipeline::ErrorReason;
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

JsonEventParser::JsonEventParser(std::vector<std::string> fields) : fields_(std::move(fields)) {
  for (const std::string& field : fields_) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t dot;
         (dot = field.find(config::kFieldPathSeparator, start)) != std::string::npos;
         start = dot + 1)
      parts.push_back(field.substr(start, dot - start));
    parts.push_back(field.substr(start));
    if (parts.size() > kMaxDepth) parts.clear();  // deeper than read: never found
    segments_.push_back(std::move(parts));
  }
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const std::vector<std::string>& s = segments_[i];
    if (s.empty()) continue;
    auto top =
        std::find_if(top_.begin(), top_.end(), [&](const TopKey& t) { return t.name == s[0]; });
    if (top == top_.end()) top = top_.insert(top_.end(), TopKey{s[0], -1, false});
    if (s.size() == 1) {
      top->field = static_cast<int>(i);
    } else {
      top->descend = true;
    }
  }
}

int JsonEventParser::fieldOf(std::span<const std::string_view> path, std::string_view key,
                             bool& descend) const noexcept {
  const std::size_t depth = path.size();
  if (depth == 0) {
    for (const TopKey& top : top_) {
      if (top.name.size() == key.size() &&
          std::memcmp(top.name.data(), key.data(), key.size()) == 0) {
        descend = top.descend;
        return top.field;
      }
    }
    descend = false;
    return -1;
  }
  int found = -1;
  descend = false;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const std::vector<std::string>& s = segments_[i];
    if (s.size() <= depth || s[depth] != key) continue;
    bool prefix = true;
    for (std::size_t d = 0; d < depth && prefix; ++d) prefix = s[d] == path[d];
    if (!prefix) continue;
    if (s.size() == depth + 1) {
      found = static_cast<int>(i);
    } else {
      descend = true;
    }
  }
  return found;
}

ErrorReason JsonEventParser::parse(std::string_view line, std::size_t capacity,
                                   std::span<config::FieldValue> out) noexcept {
  for (config::FieldValue& f : out) f = config::FieldValue{};
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
  if (const ErrorReason reason = parseObject(object, out, 0); reason != ErrorReason::kNone)
    return reason;
  return atEnd(doc) ? ErrorReason::kNone : ErrorReason::kInvalidJson;
}

ErrorReason JsonEventParser::parseObject(od::object& object, std::span<config::FieldValue> out,
                                         std::size_t depth) noexcept {
  for (auto member : object) {
    od::field field;
    if (std::move(member).get(field)) return ErrorReason::kInvalidJson;
    std::string_view key;
    if (field.unescaped_key().get(key)) return ErrorReason::kInvalidJson;
    bool descend = false;
    const int index = fieldOf({path_, depth}, key, descend);
    od::value value = field.value();
    od::json_type value_type;
    if (value.type().get(value_type)) return ErrorReason::kInvalidJson;
    if (descend && value_type == od::json_type::object && depth + 1 < kMaxDepth) {
      // Some field lies inside: read this object's members too. (The key's view stays valid
      // while its members are read.)
      od::object inner;
      if (value.get_object().get(inner)) return ErrorReason::kInvalidJson;
      path_[depth] = key;
      if (const ErrorReason reason = parseObject(inner, out, depth + 1);
          reason != ErrorReason::kNone)
        return reason;
      if (index >= 0 && out[index].type == config::FieldType::kMissing)
        out[index].type = config::FieldType::kOther;
      continue;
    }
    if (index < 0 || out[index].type != config::FieldType::kMissing) {
      // Not needed, or a repeated key (the first one wins).
      if (!validScalar(value, value_type)) return ErrorReason::kInvalidJson;
      continue;
    }
    config::FieldValue& f = out[index];
    switch (value_type) {
      case od::json_type::number: {
        od::number number;
        f.type = config::FieldType::kNumber;
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
        f.type = config::FieldType::kString;
        break;
      case od::json_type::boolean: {
        bool b;
        if (value.get_bool().get(b)) return ErrorReason::kInvalidJson;
        f.type = config::FieldType::kBool;
        f.text = b ? "true" : "false";
        break;
      }
      case od::json_type::null: {
        bool is_null = false;
        if (value.is_null().get(is_null) || !is_null) return ErrorReason::kInvalidJson;
        f.type = config::FieldType::kNull;
        break;
      }
      default:
        f.type = config::FieldType::kOther;  // skipped by the iteration; structurally checked
        break;
    }
  }
  return ErrorReason::kNone;
}

ErrorReason JsonEventParser::parseCopy(std::string_view line, std::span<config::FieldValue> out) {
  copy_.assign(line);
  copy_.resize(line.size() + simdjson::SIMDJSON_PADDING);
  return parse(std::string_view(copy_.data(), line.size()), copy_.size(), out);
}

}  // namespace rivulet::connectors
