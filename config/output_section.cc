// `outputs:`: where results go besides the result socket.
#include <algorithm>

#include "config/sections.h"
#include "config/text/message_text.h"

namespace rivulet::config {
namespace {

constexpr std::string_view kFileKeys[] = {"kind", "path", "pipelines"};
constexpr std::string_view kKafkaKeys[] = {"kind",     "brokers",    "topic",   "pipelines",
                                           "delivery", "properties", "markers", "late"};
constexpr std::string_view kOutputKinds[] = {"file", "kafka"};
constexpr std::string_view kDeliveries[] = {"at_least_once", "exactly_once"};

std::vector<std::string> readSelection(YamlReader& reader, const Value& value,
                                       const std::vector<PipelineConfig>& pipelines) {
  std::vector<std::string> selected;
  const auto items = reader.list(value, /*scalar_is_list=*/true);
  if (!items) return selected;
  if (items->empty()) reader.error(value, "at least one pipeline is required (or leave it out)");
  std::vector<std::string_view> names;
  for (const PipelineConfig& p : pipelines) names.push_back(p.name);
  for (const Value& item : *items) {
    const auto name = reader.scalar(item, "a pipeline name");
    if (!name) continue;
    const auto it = std::find_if(pipelines.begin(), pipelines.end(),
                                 [&](const PipelineConfig& p) { return p.name == *name; });
    if (it == pipelines.end()) {
      reader.error(item,
                   quote(*name) + " is not a pipeline" + suggestion(*name, names, "pipelines"));
    } else if (!it->publish) {
      reader.error(item,
                   "pipeline " + quote(*name) + " has publish: false: it has no results here");
    } else if (std::find(selected.begin(), selected.end(), *name) != selected.end()) {
      reader.error(item, quote(*name) + " is listed twice");
    } else {
      selected.push_back(*name);
    }
  }
  return selected;
}

OutputSpec readOutput(YamlReader& reader, const Entry& entry,
                      const std::vector<PipelineConfig>& pipelines) {
  OutputSpec output;
  output.name = entry.key;
  reader.checkName(entry, "output");
  auto map = reader.map(entry.value);
  if (!map) return output;
  std::optional<std::string> kind;
  if (const Entry* e = map->require("kind")) {
    kind = reader.choice(e->value, kOutputKinds, "an output kind");
  }
  if (const Entry* e = map->find("pipelines")) {
    output.pipelines = readSelection(reader, e->value, pipelines);
  }
  if (kind == "kafka") {
    output.kind = OutputKind::kKafka;
    if (const Entry* e = map->require("brokers")) {
      if (const auto brokers = reader.nonEmptyString(e->value)) output.brokers = *brokers;
    }
    if (const Entry* e = map->require("topic")) {
      if (const auto topic = reader.nonEmptyString(e->value)) output.topic = *topic;
    }
    if (const Entry* e = map->find("delivery")) {
      if (reader.choice(e->value, kDeliveries, "a delivery") == "exactly_once") {
        reader.error(e->value,
                     "exactly_once is not available yet; at_least_once is (README: Results in "
                     "Kafka)");
      }
    }
    if (const Entry* e = map->find("properties")) {
      output.properties = readKafkaProperties(
          reader, *e, kKafkaOutputOwnedProperties,
          "brokers have a key of their own; at_least_once needs an idempotent producer "
          "acknowledged by every replica");
    }
    if (const Entry* e = map->find("markers")) {
      output.markers = reader.boolean(e->value).value_or(false);
    }
    if (const Entry* e = map->find("late")) output.late = reader.boolean(e->value).value_or(false);
    map->reportUnknown(kKafkaKeys);
    return output;
  }
  if (const Entry* e = map->require("path")) {
    if (const auto path = reader.nonEmptyString(e->value)) output.path = *path;
  }
  map->reportUnknown(kFileKeys);
  return output;
}

}  // namespace

std::vector<OutputSpec> readOutputs(YamlReader& reader, const Value& value,
                                    const std::vector<PipelineConfig>& pipelines) {
  std::vector<OutputSpec> outputs;
  auto map = reader.map(value);
  if (!map) return outputs;
  for (const Entry& entry : map->entries()) outputs.push_back(readOutput(reader, entry, pipelines));
  return outputs;
}

}  // namespace rivulet::config
