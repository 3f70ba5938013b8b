// Result messages (DESIGN §3) parsed strictly: any member or type the contract does not name is
// an error.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/integration/harness/subscriber.h"

namespace rivulet::testutil {

// A value under "values": a number or null, or top_k's array of [item, count].
struct JsonNumber {
  // A value of a result: a number, a top_k array, or (computed values, a join's fields) a string
  // or a bool.
  enum class Type { kNull, kInteger, kDouble, kArray, kString, kBool } type = Type::kNull;
  std::int64_t integer = 0;
  double number = 0;  // also set for integers
  std::string array;  // kArray: the array, minified
  std::string text;   // kString: the string, unescaped; kBool: "true" or "false"
};

struct Result {
  std::string topic;
  bool has_topic = true;
  std::string payload;
  std::string pipeline;
  std::int64_t seq = 0;
  std::string kind;
  std::int64_t start = 0;
  std::int64_t end = 0;
  // The key object in order: field -> the string's value, or the JSON text of a non-string.
  std::vector<std::pair<std::string, std::string>> key;
  std::map<std::string, JsonNumber> values;
};

// Parses a result message; nullopt (with the reason) if it does not follow DESIGN §3.
std::optional<Result> parseResult(const Message& message, std::string* error);

// Every message whose topic is not a control topic (_window/, _late/) parsed as a result; a
// message that does not parse is a test failure.
std::vector<Result> parseResults(const std::vector<Message>& messages);

// Result messages among `messages` (not the _window/ and _late/ control topics).
std::size_t countResults(const std::vector<Message>& messages);

// The lines of an `output:` file as messages without a topic.
std::vector<Message> messagesFromJsonLines(std::string_view text);

}  // namespace rivulet::testutil
