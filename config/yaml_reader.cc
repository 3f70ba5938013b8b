#include "config/yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <utility>

#include "config/duration.h"
#include "config/endpoint.h"
#include "config/text/message_text.h"

namespace rivulet::config {
namespace {

constexpr std::size_t kMaxNameLength = 64;

bool isNullMark(const YAML::Mark& mark) { return mark.line < 0 || mark.column < 0; }

// The mark of `node`, or `fallback` when the node is empty or has none (see Value::mark).
YAML::Mark markOr(const YAML::Node& node, const YAML::Mark& fallback) {
  if (!node.IsDefined() || node.IsNull()) return fallback;
  const YAML::Mark mark = node.Mark();
  return isNullMark(mark) ? fallback : mark;
}

bool isNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool isNameChar(char c) { return isNameStart(c) || c == '_' || c == '.' || c == '-'; }

std::string rangeText(std::int64_t min, std::int64_t max) {
  if (max == std::numeric_limits<std::int64_t>::max()) {
    return "an integer >= " + std::to_string(min);
  }
  return "an integer in " + std::to_string(min) + ".." + std::to_string(max);
}

}  // namespace

std::string childPath(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return quote(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "an empty value";
}

MapReader::MapReader(YamlReader& reader, const Value& map) : reader_(reader), map_(map) {
  if (!map.node.IsMap()) return;
  for (const auto& pair : map.node) {
    // Copies: yaml-cpp's iterators hand out a temporary proxy, so a reference into it dangles.
    const YAML::Node key = pair.first;
    const YAML::Node value = pair.second;
    const YAML::Mark key_mark = markOr(key, map.mark);
    if (!key.IsScalar()) {
      reader_.error(key_mark, map.path, "expected a string key, got " + describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    const auto first = std::find_if(entries_.begin(), entries_.end(),
                                    [&](const Entry& e) { return e.key == name; });
    if (first != entries_.end()) {
      reader_.error(key_mark, childPath(map.path, name),
                    "duplicate key " + quote(name) + " (first defined on line " +
                        std::to_string(first->key_mark.line + 1) + ")");
      continue;
    }
    const std::string path = childPath(map.path, name);
    entries_.push_back(Entry{name, key_mark, Value{value, path, markOr(value, key_mark)}});
  }
  used_.assign(entries_.size(), false);
}

const Entry* MapReader::find(std::string_view key) {
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].key == key) {
      used_[i] = true;
      return &entries_[i];
    }
  }
  return nullptr;
}

const Entry* MapReader::require(std::string_view key) {
  const Entry* entry = find(key);
  if (entry != nullptr) return entry;
  const std::string_view wanted[] = {key};
  const std::vector<const Entry*> others = unused();
  if (std::any_of(others.begin(), others.end(),
                  [&](const Entry* e) { return closestMatch(e->key, wanted).has_value(); })) {
    held_back_missing_.emplace_back(key);
  } else {
    reader_.error(map_.mark, map_.path, "missing required key " + quote(key));
  }
  return nullptr;
}

void MapReader::rejectNotSupported(std::string_view key) {
  if (const Entry* entry = find(key)) {
    reader_.error(entry->key_mark, entry->value.path, quote(key) + " is not supported yet");
  }
}

std::vector<const Entry*> MapReader::unused() const {
  std::vector<const Entry*> out;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (!used_[i]) out.push_back(&entries_[i]);
  }
  return out;
}

void MapReader::markUsed(const Entry& entry) {
  used_[static_cast<std::size_t>(&entry - entries_.data())] = true;
}

void MapReader::reportUnknown(std::span<const std::string_view> known) {
  std::vector<std::string_view> suggested;
  for (const Entry* entry : unused()) {
    reader_.error(entry->key_mark, entry->value.path,
                  "unknown key " + quote(entry->key) + suggestion(entry->key, known, "known keys"));
    if (const auto match = closestMatch(entry->key, known)) suggested.push_back(*match);
    markUsed(*entry);
  }
  for (const std::string& key : held_back_missing_) {
    if (std::find(suggested.begin(), suggested.end(), key) == suggested.end()) {
      reader_.error(map_.mark, map_.path, "missing required key " + quote(key));
    }
  }
  held_back_missing_.clear();
}

YamlReader::YamlReader(std::string file) : file_(std::move(file)) {}

void YamlReader::error(const YAML::Mark& mark, std::string path, std::string message) {
  ConfigError error;
  error.file = file_;
  if (!isNullMark(mark)) {
    error.line = mark.line + 1;
    error.column = mark.column + 1;
  }
  error.path = std::move(path);
  error.message = std::move(message);
  errors_.push_back(std::move(error));
}

void YamlReader::error(const Value& at, std::string message) {
  error(at.mark, at.path, std::move(message));
}

std::string YamlReader::location(const Value& at) const {
  ConfigError where;
  where.file = file_;
  if (!isNullMark(at.mark)) {
    where.line = at.mark.line + 1;
    where.column = at.mark.column + 1;
  }
  where.path = at.path;
  std::string text = where.toString();  // ends with the ": " before an empty message
  text.resize(text.size() - 2);
  return text;
}

std::vector<ConfigError> YamlReader::takeErrors() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  return std::move(errors_);
}

void YamlReader::wrongType(const Value& value, std::string_view expected) {
  error(value, "expected " + std::string(expected) + ", got " + describe(value.node));
}

std::optional<MapReader> YamlReader::map(const Value& value) {
  if (!value.node.IsMap() && !value.node.IsNull()) {
    wrongType(value, "a map");
    return std::nullopt;
  }
  return MapReader(*this, value);
}

std::optional<std::vector<Value>> YamlReader::list(const Value& value, bool scalar_is_list) {
  std::vector<Value> items;
  if (value.node.IsNull()) return items;
  if (value.node.IsScalar() && scalar_is_list) {
    items.push_back(value);
    return items;
  }
  if (!value.node.IsSequence()) {
    wrongType(value, scalar_is_list ? "a string or a list" : "a list");
    return std::nullopt;
  }
  std::size_t index = 0;
  for (const YAML::Node& item : value.node) {
    items.push_back(
        Value{item, value.path + "[" + std::to_string(index++) + "]", markOr(item, value.mark)});
  }
  return items;
}

std::optional<std::string> YamlReader::scalar(const Value& value, std::string_view expected) {
  if (!value.node.IsScalar()) {
    wrongType(value, expected);
    return std::nullopt;
  }
  return value.node.Scalar();
}

std::optional<std::string> YamlReader::nonEmptyString(const Value& value) {
  auto text = scalar(value, "a non-empty string");
  if (text && text->empty()) {
    wrongType(value, "a non-empty string");
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> YamlReader::integerText(const Value& value) {
  auto text = scalar(value, "an integer");
  if (!text) return std::nullopt;
  const std::string_view digits = std::string_view(*text).substr(text->starts_with('-') ? 1 : 0);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
    error(value, quote(*text) + " is not an integer");
    return std::nullopt;
  }
  return text;
}

std::optional<std::int64_t> YamlReader::integer(const Value& value, std::int64_t min,
                                                std::int64_t max) {
  const auto text = integerText(value);
  if (!text) return std::nullopt;
  std::int64_t number = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), number);
  if (ec != std::errc() || end != text->data() + text->size() || number < min || number > max) {
    error(value, quote(*text) + " is out of range (expected " + rangeText(min, max) + ")");
    return std::nullopt;
  }
  return number;
}

std::optional<std::uint64_t> YamlReader::unsignedInteger(const Value& value) {
  const auto text = integerText(value);
  if (!text) return std::nullopt;
  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), number);
  if (text->starts_with('-') || ec != std::errc() || end != text->data() + text->size()) {
    error(value, quote(*text) + " is out of range (expected an integer in 0.." +
                     std::to_string(std::numeric_limits<std::uint64_t>::max()) + ")");
    return std::nullopt;
  }
  return number;
}

std::optional<bool> YamlReader::boolean(const Value& value) {
  const auto text = scalar(value, "true or false");
  if (!text) return std::nullopt;
  if (*text == "true" || *text == "True" || *text == "TRUE") return true;
  if (*text == "false" || *text == "False" || *text == "FALSE") return false;
  error(value, quote(*text) + " is not a boolean (use true or false)");
  return std::nullopt;
}

std::optional<Nanos> YamlReader::duration(const Value& value) {
  const auto text = scalar(value, "a duration (e.g. 500ms, 10s, 1m)");
  if (!text) return std::nullopt;
  if (const auto nanos = parseDuration(*text)) return nanos;
  // Digits and a unit that still fail can only have overflowed: say so rather than "not a
  // duration".
  const std::size_t unit = text->find_first_not_of("0123456789");
  if (unit != 0 && unit != std::string::npos && parseDuration("0" + text->substr(unit))) {
    error(value, quote(*text) + " is too long (at most about 292 years)");
    return std::nullopt;
  }
  error(value, quote(*text) + " is not a duration (use e.g. 500ms, 10s, 1m)");
  return std::nullopt;
}

std::optional<Endpoint> YamlReader::endpoint(const Value& value) {
  const auto text = scalar(value, "host:port");
  if (!text) return std::nullopt;
  std::string message;
  auto parsed = parseEndpoint(*text, &message);
  if (!parsed) error(value, std::move(message));
  return parsed;
}

std::optional<std::string> YamlReader::choice(const Value& value,
                                              std::span<const std::string_view> choices,
                                              std::string_view what) {
  const auto text = scalar(value, what);
  if (!text) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), *text) != choices.end()) return text;
  error(value, quote(*text) + " is not " + std::string(what) +
                   suggestion(*text, choices, "expected one of"));
  return std::nullopt;
}

bool YamlReader::checkName(const Entry& entry, std::string_view what) {
  const std::string& name = entry.key;
  std::string problem;
  if (name.empty()) {
    problem = "a " + std::string(what) + " name must not be empty";
  } else if (name.size() > kMaxNameLength) {
    problem = quote(name) + " is too long for a " + std::string(what) + " name (at most " +
              std::to_string(kMaxNameLength) + " characters)";
  } else if (name.front() == '_') {
    problem = quote(name) + " is not a valid " + std::string(what) +
              " name (names starting with '_' are reserved)";
  } else if (!isNameStart(name.front())) {
    problem = quote(name) + " is not a valid " + std::string(what) +
              " name (it must start with a letter or digit)";
  } else if (const auto bad = std::find_if_not(name.begin(), name.end(), isNameChar);
             bad != name.end()) {
    problem = quote(name) + " is not a valid " + std::string(what) + " name (" +
              quote(std::string(1, *bad)) + " is not allowed; use letters, digits, '_', '.', '-')";
  } else {
    return true;
  }
  error(entry.key_mark, entry.value.path, std::move(problem));
  return false;
}

}  // namespace rivulet::config
