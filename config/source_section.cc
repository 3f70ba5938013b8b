// One entry under `sources:`: the keys every kind takes, then the keys of its kind.
#include <algorithm>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "config/aggregate_expr.h"
#include "config/message_text.h"
#include "config/sections.h"

namespace rivulet::config {
namespace {

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
// The largest epoch millisecond whose value in nanoseconds still fits in int64.
constexpr std::int64_t kMaxStartMs = kInt64Max / 1'000'000;

constexpr std::string_view kCommonKeys[] = {"kind", "format", "time", "watermark"};
constexpr std::string_view kGeneratorKeys[] = {
    "profile", "keys", "events_per_second", "start", "throttle", "count", "seed"};
constexpr std::string_view kGeneratorProfiles[] = {"keys", "nexmark"};
constexpr std::string_view kFileKeys[] = {"path", "follow"};
constexpr std::string_view kTcpKeys[] = {"listen", "max_line", "max_connections"};
constexpr std::string_view kUdpKeys[] = {"listen", "overflow", "rcvbuf"};
constexpr std::string_view kZmqKeys[] = {"socket", "bind", "connect", "subscribe", "overflow"};
constexpr std::string_view kKafkaKeys[] = {"brokers", "topics", "group", "properties",
                                           "commit_interval"};

// Every kind of DESIGN §2 with its own keys, so that a key of another kind can be named as such.
struct KindInfo {
  std::string_view name;
  std::span<const std::string_view> keys;
  std::optional<SourceKind> kind;  // nullopt: not supported yet
};
constexpr KindInfo kKinds[] = {
    {"generator", kGeneratorKeys, SourceKind::kGenerator},
    {"file", kFileKeys, SourceKind::kFile},
    {"tcp", kTcpKeys, SourceKind::kTcp},
    {"udp", kUdpKeys, std::nullopt},
    {"zmq", kZmqKeys, std::nullopt},
    {"kafka", kKafkaKeys, SourceKind::kKafka},
};
constexpr std::string_view kKindNames[] = {"generator", "file", "tcp", "udp", "zmq", "kafka"};
constexpr std::string_view kSupportedKinds = "generator, file, tcp, kafka";

constexpr std::string_view kTimeKeys[] = {"field", "unit"};
constexpr std::string_view kTimeUnits[] = {"s", "ms", "us", "ns"};
constexpr std::string_view kWatermarkKeys[] = {"delay", "idle", "max_future"};

const KindInfo* findKind(std::string_view name) {
  const auto it = std::find_if(std::begin(kKinds), std::end(kKinds),
                               [&](const KindInfo& k) { return k.name == name; });
  return it == std::end(kKinds) ? nullptr : it;
}

// The kinds that take `key`, e.g. {"tcp", "udp"} for "listen".
std::vector<std::string_view> kindsWithKey(std::string_view key) {
  std::vector<std::string_view> kinds;
  for (const KindInfo& kind : kKinds) {
    if (std::find(kind.keys.begin(), kind.keys.end(), key) != kind.keys.end()) {
      kinds.push_back(kind.name);
    }
  }
  return kinds;
}

// The kind, or nullptr after reporting why there is none.
const KindInfo* readKind(YamlReader& reader, MapReader& map) {
  const Entry* entry = map.require("kind");
  if (entry == nullptr) return nullptr;
  const auto name = reader.scalar(entry->value, "a source kind");
  if (!name) return nullptr;
  const KindInfo* kind = findKind(*name);
  if (kind == nullptr) {
    const auto close = closestMatch(*name, kKindNames);
    reader.error(entry->value, quote(*name) + " is not a source kind" +
                                   (close ? " (did you mean " + quote(*close) + "?)"
                                          : " (supported: " + std::string(kSupportedKinds) + ")"));
  } else if (!kind->kind) {
    reader.error(entry->value, quote(*name) + " is not supported yet (supported: " +
                                   std::string(kSupportedKinds) + ")");
  }
  return kind;
}

void readFormat(YamlReader& reader, const Value& value) {
  const auto format = reader.scalar(value, "a format");
  if (!format || *format == "json") return;
  if (*format == "csv") {
    reader.error(value, "\"csv\" is not supported yet (supported: json)");
  } else {
    reader.error(value, quote(*format) + " is not a format (supported: json)");
  }
}

std::optional<TimeSpec> readTime(YamlReader& reader, const Value& value, const SourceInfo& info) {
  auto map = reader.map(value);
  if (!map) return std::nullopt;
  TimeSpec time;
  bool ok = true;
  if (const Entry* e = map->require("field")) {
    const auto field = reader.scalar(e->value, "a field name");
    if (!field) {
      ok = false;
    } else if (!isFieldName(*field)) {
      reader.error(e->value, quote(*field) +
                                 " is not a field name (letters, digits and '_', not starting "
                                 "with a digit)");
      ok = false;
    } else {
      time.field = *field;
      if (info.kind == SourceKind::kGenerator) checkGeneratorField(reader, e->value, *field, info);
    }
  } else {
    ok = false;
  }
  if (const Entry* e = map->find("unit")) {
    const auto unit = reader.choice(e->value, kTimeUnits, "a time unit");
    if (unit == "s") time.unit = TimeUnit::kSeconds;
    if (unit == "ms") time.unit = TimeUnit::kMillis;
    if (unit == "us") time.unit = TimeUnit::kMicros;
    if (unit == "ns") time.unit = TimeUnit::kNanos;
  }
  map->reportUnknown(kTimeKeys);
  return ok ? std::optional(time) : std::nullopt;
}

WatermarkSpec readWatermark(YamlReader& reader, const Value& value) {
  WatermarkSpec watermark;
  auto map = reader.map(value);
  if (!map) return watermark;
  if (const Entry* e = map->find("delay")) watermark.delay = reader.duration(e->value).value_or(0);
  if (const Entry* e = map->find("idle")) watermark.idle = reader.duration(e->value).value_or(0);
  if (const Entry* e = map->find("max_future")) {
    watermark.max_future = reader.duration(e->value).value_or(0);
  }
  map->reportUnknown(kWatermarkKeys);
  return watermark;
}

void readInt(YamlReader& reader, MapReader& map, std::string_view key, std::int64_t min,
             std::int64_t max, std::int64_t* out) {
  if (const Entry* e = map.find(key)) {
    if (const auto value = reader.integer(e->value, min, max)) *out = *value;
  }
}

GeneratorProfile readProfile(YamlReader& reader, MapReader& map) {
  if (const Entry* e = map.find("profile")) {
    if (reader.choice(e->value, kGeneratorProfiles, "a generator profile") == "nexmark") {
      return GeneratorProfile::kNexmark;
    }
  }
  return GeneratorProfile::kKeys;
}

void readGenerator(YamlReader& reader, MapReader& map, GeneratorSpec* generator) {
  readInt(reader, map, "keys", 1, kInt64Max, &generator->keys);
  readInt(reader, map, "events_per_second", 1, kInt64Max, &generator->events_per_second);
  if (const Entry* e = map.find("start")) {
    const auto text = reader.scalar(e->value, "now or epoch milliseconds");
    if (text && *text != "now") {
      if (text->find_first_not_of("-0123456789") != std::string::npos) {
        reader.error(e->value,
                     quote(*text) + " is not a start time (use now or epoch milliseconds)");
      } else if (const auto ms = reader.integer(e->value, 0, kMaxStartMs)) {
        generator->start_ms = *ms;
      }
    }
  }
  readInt(reader, map, "throttle", 0, kInt64Max, &generator->throttle);
  readInt(reader, map, "count", 0, kInt64Max, &generator->count);
  if (const Entry* e = map.find("seed")) {
    if (const auto seed = reader.unsignedInteger(e->value)) generator->seed = *seed;
  }
}

void readFile(YamlReader& reader, MapReader& map, FileSpec* file) {
  if (const Entry* e = map.require("path")) {
    if (const auto path = reader.nonEmptyString(e->value)) file->path = *path;
  }
  if (const Entry* e = map.find("follow")) {
    if (const auto follow = reader.boolean(e->value)) file->follow = *follow;
  }
}

void readTcp(YamlReader& reader, MapReader& map, TcpSpec* tcp) {
  if (const Entry* e = map.require("listen")) {
    if (const auto listen = reader.endpoint(e->value)) tcp->listen = *listen;
  }
  readInt(reader, map, "max_line", 1, std::int64_t{1} << 30, &tcp->max_line);
  readInt(reader, map, "max_connections", 1, 65536, &tcp->max_connections);
}

void readKafka(YamlReader& reader, MapReader& map, KafkaSpec* kafka) {
  if (const Entry* e = map.require("brokers")) {
    if (const auto brokers = reader.nonEmptyString(e->value)) kafka->brokers = *brokers;
  }
  if (const Entry* e = map.require("topics")) {
    if (const auto topics = reader.list(e->value, true)) {
      if (topics->empty()) reader.error(e->value, "a kafka source needs at least one topic");
      for (const Value& topic : *topics) {
        if (const auto name = reader.nonEmptyString(topic)) kafka->topics.push_back(*name);
      }
    }
  }
  if (const Entry* e = map.require("group")) {
    if (const auto group = reader.nonEmptyString(e->value)) kafka->group = *group;
  }
  if (const Entry* e = map.find("properties")) {
    if (auto properties = reader.map(e->value)) {
      for (const Entry& property : properties->entries()) {
        properties->markUsed(property);
        const auto value = reader.scalar(property.value, "a property value (a string)");
        if (!value) continue;
        const auto owned = std::find(std::begin(kKafkaOwnedProperties),
                                     std::end(kKafkaOwnedProperties), property.key);
        if (owned != std::end(kKafkaOwnedProperties)) {
          reader.error(property.key_mark, property.value.path,
                       quote(property.key) +
                           " is set by rivulet (brokers and group have keys of their own; "
                           "offsets are committed once their windows are published)");
          continue;
        }
        kafka->properties.emplace_back(property.key, *value);
      }
    }
  }
  if (const Entry* e = map.find("commit_interval")) {
    if (const auto interval = reader.duration(e->value)) {
      if (*interval <= 0) {
        reader.error(e->value, "commit_interval must be positive");
      } else {
        kafka->commit_interval = *interval;
      }
    }
  }
}

// Keys left over after the schema of `kind` has been applied: keys of other kinds are named as
// such, the rest are unknown.
void reportLeftovers(YamlReader& reader, MapReader& map, const KindInfo* kind) {
  std::vector<std::string_view> known(std::begin(kCommonKeys), std::end(kCommonKeys));
  for (const KindInfo& k : kKinds) {
    if (kind != nullptr && &k != kind) continue;
    for (const std::string_view key : k.keys) {
      if (std::find(known.begin(), known.end(), key) == known.end()) known.push_back(key);
    }
  }
  for (const Entry* entry : map.unused()) {
    const std::vector<std::string_view> owners = kindsWithKey(entry->key);
    if (owners.empty()) continue;
    map.markUsed(*entry);
    // Without a usable kind there is no telling which keys are foreign; the kind is reported.
    if (kind == nullptr || !kind->kind) continue;
    reader.error(entry->key_mark, entry->value.path,
                 quote(entry->key) + " is a key of " + joinAnd(owners) + " sources, not of " +
                     std::string(kind->name));
  }
  map.reportUnknown(known);
}

}  // namespace

void checkGeneratorField(YamlReader& reader, const Value& at, std::string_view field,
                         const SourceInfo& source) {
  using Fields = std::span<const std::string_view>;
  const Fields fields = source.profile == GeneratorProfile::kNexmark ? Fields(kNexmarkFields)
                                                                     : Fields(kGeneratorFields);
  if (std::find(fields.begin(), fields.end(), field) != fields.end()) return;
  reader.error(at, quote(field) + " is not a field of generator source " + quote(source.name) +
                       " (fields: " + joinComma(fields) + ")");
}

SourceConfig readSource(YamlReader& reader, const Entry& entry, SourceInfo* info) {
  SourceConfig source;
  source.name = entry.key;
  info->name = entry.key;
  reader.checkName(entry, "source");
  auto map = reader.map(entry.value);
  if (!map) return source;

  const KindInfo* kind = readKind(reader, *map);
  if (kind != nullptr && kind->kind) {
    source.kind = *kind->kind;
    info->kind = source.kind;
  }
  const bool generator = info->kind == SourceKind::kGenerator;
  // First, since it decides which fields the time may be.
  if (generator) info->profile = source.generator.profile = readProfile(reader, *map);

  if (const Entry* e = map->find("format")) readFormat(reader, e->value);
  map->rejectNotSupported("columns");
  if (const Entry* e = map->find("time")) {
    source.time = readTime(reader, e->value, *info);
  } else if (generator) {
    const bool nexmark = info->profile == GeneratorProfile::kNexmark;
    source.time = TimeSpec{nexmark ? "dateTime" : "ts", TimeUnit::kMillis};
  }
  if (const Entry* e = map->find("watermark")) source.watermark = readWatermark(reader, e->value);

  if (info->kind == SourceKind::kGenerator) readGenerator(reader, *map, &source.generator);
  if (info->kind == SourceKind::kFile) readFile(reader, *map, &source.file);
  if (info->kind == SourceKind::kTcp) readTcp(reader, *map, &source.tcp);
  if (info->kind == SourceKind::kKafka) readKafka(reader, *map, &source.kafka);
  reportLeftovers(reader, *map, kind);
  return source;
}

}  // namespace rivulet::config
