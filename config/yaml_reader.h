// Reading YAML nodes into typed values while collecting every error with its position and field
// path. The schema itself lives in the *_section.cc files; this is the vocabulary they use.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/loader.h"

namespace rivulet::config {

// A node, the field path that leads to it and the position to blame for it.
struct Value {
  YAML::Node node;
  std::string path;
  // 0-based, as yaml-cpp gives it. For an empty value this is its key's position: yaml-cpp marks
  // an empty value at the token after it, which is usually the next line.
  YAML::Mark mark;
};

// One `key: value` of a map.
struct Entry {
  std::string key;
  YAML::Mark key_mark;
  Value value;
};

// "a.b" + "c" -> "a.b.c"; the root's path is empty.
std::string childPath(const std::string& path, std::string_view key);

// "a map", "a list", "an empty value" or the quoted scalar: what a node is, for "expected X, got
// Y".
std::string describe(const YAML::Node& node);

class YamlReader;

// The entries of one YAML map in file order, each key once (duplicates and non-string keys are
// reported when it is built). Remembers which keys the schema looked at, so that the rest can be
// reported as unknown.
class MapReader {
 public:
  MapReader(YamlReader& reader, const Value& map);

  const Value& self() const { return map_; }
  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

  // The entry for `key`, marked as known; nullptr when absent.
  const Entry* find(std::string_view key);
  // Like find, but a missing key is reported at this map's position. When an unknown key looks
  // like a typo of it ("agregates"), the report waits for reportUnknown, which then says "did you
  // mean" instead: one mistake, one error.
  const Entry* require(std::string_view key);
  // If `key` is present, reports `"key" is not supported yet` at it.
  void rejectNotSupported(std::string_view key);
  // Entries nobody has looked at yet.
  std::vector<const Entry*> unused() const;
  void markUsed(const Entry& entry);
  // Reports every unused key as unknown, suggesting the closest of `known`, and the missing keys
  // require() held back that no suggestion names. Every map read with require() must end here.
  void reportUnknown(std::span<const std::string_view> known);

 private:
  YamlReader& reader_;
  Value map_;
  std::vector<Entry> entries_;
  std::vector<bool> used_;
  std::vector<std::string> held_back_missing_;
};

// Collects errors and turns nodes into typed values. Each typed read returns nullopt after
// reporting why the value is wrong, so callers only decide what to do with a good value.
class YamlReader {
 public:
  explicit YamlReader(std::string file);

  void error(const YAML::Mark& mark, std::string path, std::string message);
  void error(const Value& at, std::string message);
  std::size_t errorCount() const { return errors_.size(); }
  // "file:line:column: path", as an error at `at` starts: for a check made later, outside the
  // loader (a table file's columns).
  std::string location(const Value& at) const;
  // The errors in file order (by line, then column; ties keep the order they were found in).
  std::vector<ConfigError> takeErrors();

  // A map; an empty value counts as an empty map.
  std::optional<MapReader> map(const Value& value);
  // The items of a list; an empty value counts as an empty list and, when `scalar_is_list`, a
  // scalar as a list of one.
  std::optional<std::vector<Value>> list(const Value& value, bool scalar_is_list);
  // Any scalar, as text. `expected` names the type for the error ("a string", "a duration").
  std::optional<std::string> scalar(const Value& value, std::string_view expected = "a string");
  std::optional<std::string> nonEmptyString(const Value& value);
  // A decimal integer in [min, max].
  std::optional<std::int64_t> integer(const Value& value, std::int64_t min, std::int64_t max);
  std::optional<std::uint64_t> unsignedInteger(const Value& value);
  // true or false (also True/TRUE/False/FALSE, the YAML 1.2 core schema).
  std::optional<bool> boolean(const Value& value);
  // A duration (see parseDuration), >= 0.
  std::optional<Nanos> duration(const Value& value);
  std::optional<Endpoint> endpoint(const Value& value);
  // A scalar that must be one of `choices`; `what` names them in the error ("a log level").
  std::optional<std::string> choice(const Value& value, std::span<const std::string_view> choices,
                                    std::string_view what);
  // A source or pipeline name: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 64 characters. `what` is
  // "source" or "pipeline".
  bool checkName(const Entry& entry, std::string_view what);

  // Reports "expected <expected>, got <what the node is>".
  void wrongType(const Value& value, std::string_view expected);

 private:
  // The text of a decimal integer (an optional minus and digits), or nullopt once reported.
  std::optional<std::string> integerText(const Value& value);
  std::string file_;
  std::vector<ConfigError> errors_;
};

}  // namespace rivulet::config
