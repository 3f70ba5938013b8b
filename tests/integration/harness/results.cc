// Result messages parsed with simdjson's DOM (results.h).
#include "tests/integration/harness/results.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <set>

#include "tests/support/files.h"

namespace rivulet::testutil {

std::optional<Result> parseResult(const Message& message, std::string* error) {
  namespace dom = simdjson::dom;
  Result r;
  r.topic = message.topic;
  r.has_topic = message.has_topic;
  r.payload = message.payload;
  const auto fail = [&](const std::string& why) {
    *error = why + " in [" + message.topic + "] " + message.payload;
    return std::nullopt;
  };
  dom::parser parser;
  dom::object object;
  if (parser.parse(message.payload).get_object().get(object)) return fail("not a JSON object");
  std::set<std::string_view> seen;
  for (const dom::key_value_pair field : object) {
    const std::string_view name = field.key;
    if (!seen.insert(name).second) return fail("repeated member \"" + std::string(name) + "\"");
    const dom::element value = field.value;
    if (name == "pipeline" || name == "kind") {
      std::string_view text;
      if (value.get_string().get(text)) return fail(std::string(name) + " is not a string");
      (name == "pipeline" ? r.pipeline : r.kind) = std::string(text);
    } else if (name == "seq" || name == "start" || name == "end") {
      std::int64_t n;
      if (value.get_int64().get(n)) return fail(std::string(name) + " is not an integer");
      (name == "seq" ? r.seq : name == "start" ? r.start : r.end) = n;
    } else if (name == "key") {
      dom::object key;
      if (value.get_object().get(key)) return fail("key is not an object");
      for (const dom::key_value_pair part : key) {
        std::string_view text;
        if (part.value.get_string().get(text)) {
          r.key.emplace_back(std::string(part.key), simdjson::minify(part.value));
        } else {
          r.key.emplace_back(std::string(part.key), std::string(text));
        }
      }
    } else if (name == "values") {
      dom::object values;
      if (value.get_object().get(values)) return fail("values is not an object");
      for (const dom::key_value_pair v : values) {
        JsonNumber n;
        switch (v.value.type()) {
          case dom::element_type::NULL_VALUE:
            break;
          case dom::element_type::INT64:
            n.type = JsonNumber::Type::kInteger;
            n.integer = v.value.get_int64().value_unsafe();
            n.number = static_cast<double>(n.integer);
            break;
          case dom::element_type::UINT64:
            n.type = JsonNumber::Type::kInteger;
            n.integer = static_cast<std::int64_t>(v.value.get_uint64().value_unsafe());
            n.number = static_cast<double>(v.value.get_uint64().value_unsafe());
            break;
          case dom::element_type::DOUBLE:
            n.type = JsonNumber::Type::kDouble;
            n.number = v.value.get_double().value_unsafe();
            break;
          // top_k: [[item, count], ...], each item a string or a number, each count an integer.
          case dom::element_type::ARRAY: {
            const std::string bad =
                "value \"" + std::string(v.key) + "\" is not [[item, count], ...]";
            dom::array entries;
            if (v.value.get_array().get(entries)) return fail(bad);
            for (const dom::element entry : entries) {
              dom::array pair;
              dom::element item, count;
              if (entry.get_array().get(pair) || pair.size() != 2 || pair.at(0).get(item) ||
                  pair.at(1).get(count) || !(item.is_string() || item.is_number()) ||
                  !count.is_int64()) {
                return fail(bad);
              }
            }
            n.type = JsonNumber::Type::kArray;
            n.array = simdjson::minify(v.value);
            break;
          }
          case dom::element_type::STRING:
            n.type = JsonNumber::Type::kString;
            n.text = std::string(v.value.get_string().value_unsafe());
            break;
          case dom::element_type::BOOL:
            n.type = JsonNumber::Type::kBool;
            n.text = v.value.get_bool().value_unsafe() ? "true" : "false";
            break;
          default:
            return fail("value \"" + std::string(v.key) + "\" is an object");
        }
        if (!r.values.emplace(std::string(v.key), n).second) {
          return fail("repeated value \"" + std::string(v.key) + "\"");
        }
      }
    } else {
      return fail("unexpected member \"" + std::string(name) + "\"");
    }
  }
  for (const char* required : {"pipeline", "seq", "kind", "start", "end", "key", "values"}) {
    if (!seen.count(required)) return fail(std::string("no \"") + required + "\"");
  }
  return r;
}

std::vector<Result> parseResults(const std::vector<Message>& messages) {
  std::vector<Result> results;
  for (const Message& m : messages) {
    if (m.has_topic && m.topic.rfind("_", 0) == 0) continue;
    std::string error;
    if (auto r = parseResult(m, &error)) {
      results.push_back(std::move(*r));
    } else {
      ADD_FAILURE() << error;
    }
  }
  return results;
}

std::size_t countResults(const std::vector<Message>& messages) {
  return static_cast<std::size_t>(
      std::count_if(messages.begin(), messages.end(),
                    [](const Message& message) { return message.topic.rfind('_', 0) != 0; }));
}

std::vector<Message> messagesFromJsonLines(std::string_view text) {
  std::vector<Message> messages;
  for (const std::string& line : splitLines(text)) {
    if (!line.empty()) messages.push_back(Message{"", line, false});
  }
  return messages;
}

}  // namespace rivulet::testutil
