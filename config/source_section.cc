// One entry under `sources:`: the keys every kind takes, then the keys of its kind.
#include <algorithm>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "config/aggregate_expr.h"
#include "config/endpoint.h"
#include "config/sections.h"
#include "config/text/message_text.h"

namespace rivulet::config {
namespace {

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
// The largest epoch millisecond whose value in nanoseconds still fits in int64.
constexpr std::int64_t kMaxStartMs = kInt64Max / 1'000'000;

constexpr std::string_view kCommonKeys[] = {"kind", "format", "time", "watermark", "fields"};
// Keys of format csv, which every kind but the generator takes.
constexpr std::string_view kCsvKeys[] = {"columns", "header"};
constexpr std::string_view kGeneratorKeys[] = {
    "profile", "keys", "events_per_second", "start", "throttle", "count", "seed"};
constexpr std::string_view kGeneratorProfiles[] = {"keys", "nexmark"};
constexpr std::string_view kFileKeys[] = {"path", "follow"};
constexpr std::string_view kTcpKeys[] = {"listen", "max_line", "max_connections"};
constexpr std::string_view kUdpKeys[] = {"listen", "overflow", "rcvbuf", "max_datagram"};
constexpr std::string_view kZmqKeys[] = {"socket",   "bind",        "connect", "subscribe",
                                         "overflow", "max_message", "curve"};
constexpr std::string_view kKafkaKeys[] = {"brokers", "topics", "group", "properties",
                                           "commit_interval"};

// Every source kind with its own keys (README: "Writing a config"), so that a key of another kind
// can be named as such.
struct KindInfo {
  std::string_view name;
  std::span<const std::string_view> keys;
  SourceKind kind;
};
constexpr KindInfo kKinds[] = {
    {"generator", kGeneratorKeys, SourceKind::kGenerator},
    {"file", kFileKeys, SourceKind::kFile},
    {"tcp", kTcpKeys, SourceKind::kTcp},
    {"udp", kUdpKeys, SourceKind::kUdp},
    {"zmq", kZmqKeys, SourceKind::kZmq},
    {"kafka", kKafkaKeys, SourceKind::kKafka},
};
constexpr std::string_view kKindNames[] = {"generator", "file", "tcp", "udp", "zmq", "kafka"};
constexpr std::string_view kSupportedKinds = "generator, file, tcp, udp, zmq, kafka";
constexpr std::string_view kFormats[] = {"json", "csv"};
constexpr std::string_view kOverflowPolicies[] = {"block", "drop"};
constexpr std::string_view kZmqSocketTypes[] = {"sub", "pull"};
// ZeroMQ transports a source can use: inproc:// would only reach sockets of rivulet itself.
constexpr std::string_view kZmqSourceSchemes[] = {"tcp://", "ipc://"};
constexpr std::int64_t kMaxBuffer = std::int64_t{1} << 30;

constexpr std::string_view kTimeKeys[] = {"field", "unit"};
constexpr std::string_view kTimeUnits[] = {"s", "ms", "us", "ns", "iso8601"};
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
  }
  return kind;
}

// The columns of a csv source: at least one, each a non-empty name, none twice.
std::optional<std::vector<std::string>> readColumns(YamlReader& reader, const Value& value) {
  const auto items = reader.list(value, /*scalar_is_list=*/false);
  if (!items) return std::nullopt;
  if (items->empty()) {
    reader.error(value, "at least one column is required");
    return std::nullopt;
  }
  std::vector<std::string> columns;
  bool ok = true;
  for (const Value& item : *items) {
    const auto name = reader.nonEmptyString(item);
    if (!name) {
      ok = false;
    } else if (std::find(columns.begin(), columns.end(), *name) != columns.end()) {
      reader.error(item, quote(*name) + " is listed twice");
      ok = false;
    } else {
      columns.push_back(*name);
    }
  }
  return ok ? std::optional(std::move(columns)) : std::nullopt;
}

// `format`, and for csv its `columns` and `header`. Read before `time`, whose field must be one
// of the columns.
void readFormat(YamlReader& reader, MapReader& map, SourceConfig* source, SourceInfo* info) {
  const Entry* format = map.find("format");
  if (format != nullptr) {
    const auto name = reader.scalar(format->value, "a format");
    if (name == "csv") {
      source->format = Format::kCsv;
    } else if (name && *name != "json") {
      reader.error(format->value,
                   quote(*name) + " is not a format" + suggestion(*name, kFormats, "supported"));
    }
  }
  const Entry* columns = map.find("columns");
  const Entry* header = map.find("header");
  if (source->format != Format::kCsv) {
    for (const Entry* e : {columns, header}) {
      if (e != nullptr)
        reader.error(e->key_mark, e->value.path, quote(e->key) + " needs format: csv");
    }
    return;
  }
  if (info->kind == SourceKind::kGenerator) {
    reader.error(format->value,
                 "\"csv\" is not a format of generator sources (they make their "
                 "own events)");
    return;
  }
  if (columns != nullptr) {
    if (auto names = readColumns(reader, columns->value)) {
      source->csv.columns = std::move(*names);
      info->csv_columns = source->csv.columns;
    }
  }
  if (header != nullptr) source->csv.header = reader.boolean(header->value).value_or(false);
  const bool udp = info->kind == SourceKind::kUdp;
  const bool messages = info->kind == SourceKind::kZmq || info->kind == SourceKind::kKafka;
  if ((udp || messages) && source->csv.header) {
    const std::string kind = udp ? "udp" : info->kind == SourceKind::kZmq ? "zmq" : "kafka";
    reader.error(header->value, "a " + kind + " source has no header line: each " +
                                    (udp ? "datagram" : "message") +
                                    " is one row (name the fields with columns)");
  } else if (columns == nullptr && header == nullptr) {
    reader.error(format->value,
                 "format csv needs columns (e.g. columns: [ts, sym, px]) or header: true");
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
      checkSourceField(reader, e->value, FieldPath{{*field}}, info);
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
    if (unit == "iso8601") time.unit = TimeUnit::kIso8601;
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
    kafka->properties = readKafkaProperties(
        reader, *e, kKafkaOwnedProperties,
        "brokers and group have keys of their own; offsets are committed once their windows are "
        "published");
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

Overflow readOverflow(YamlReader& reader, MapReader& map) {
  if (const Entry* e = map.find("overflow")) {
    if (reader.choice(e->value, kOverflowPolicies, "an overflow policy") == "drop") {
      return Overflow::kDrop;
    }
  }
  return Overflow::kBlock;
}

void readUdp(YamlReader& reader, MapReader& map, UdpSpec* udp) {
  if (const Entry* e = map.require("listen")) {
    if (const auto listen = reader.endpoint(e->value)) udp->listen = *listen;
  }
  // The kernel doubles the value into an int (so at most INT_MAX / 2) and raises tiny values to
  // its minimum.
  readInt(reader, map, "rcvbuf", 4096, std::numeric_limits<int>::max() / 2, &udp->rcvbuf);
  readInt(reader, map, "max_datagram", 1, 65535, &udp->max_datagram);
}

void readZmq(YamlReader& reader, MapReader& map, ZmqSpec* zmq) {
  const Entry* socket = map.require("socket");
  if (socket != nullptr) {
    if (reader.choice(socket->value, kZmqSocketTypes, "a socket type") == "pull") {
      zmq->socket = ZmqSocketType::kPull;
    }
  }
  const Entry* bind = map.find("bind");
  const Entry* connect = map.find("connect");
  if (bind != nullptr && connect != nullptr) {
    const Entry* later = bind->key_mark.pos > connect->key_mark.pos ? bind : connect;
    reader.error(later->key_mark, later->value.path,
                 "\"bind\" and \"connect\" exclude each other: a source binds or connects");
  } else if (bind == nullptr && connect == nullptr) {
    reader.error(map.self(),
                 "missing \"bind\" or \"connect\" (a ZeroMQ endpoint, e.g. connect: "
                 "tcp://127.0.0.1:5556)");
  } else {
    const Entry* e = bind != nullptr ? bind : connect;
    const auto endpoint = reader.scalar(e->value, "a ZeroMQ endpoint");
    if (endpoint && !hasScheme(*endpoint, kZmqSourceSchemes)) {
      reader.error(e->value, quote(*endpoint) +
                                 " is not a ZeroMQ endpoint a source can use (use "
                                 "tcp://host:port or ipc://path)");
    } else if (endpoint) {
      zmq->endpoint = *endpoint;
      zmq->bind = bind != nullptr;
    }
  }
  if (const Entry* e = map.find("subscribe")) {
    if (zmq->socket == ZmqSocketType::kPull) {
      reader.error(e->key_mark, e->value.path,
                   "\"subscribe\" is for sub sockets (a pull socket takes every message)");
    } else if (const auto items = reader.list(e->value, /*scalar_is_list=*/true)) {
      if (items->empty()) {
        reader.error(e->value, "at least one prefix is required (omit subscribe for everything)");
      }
      zmq->subscribe.clear();
      for (const Value& item : *items) {
        const auto prefix = reader.scalar(item, "a topic prefix");
        if (!prefix) continue;
        if (std::find(zmq->subscribe.begin(), zmq->subscribe.end(), *prefix) !=
            zmq->subscribe.end()) {
          reader.error(item, quote(*prefix) + " is listed twice");
        } else {
          zmq->subscribe.push_back(*prefix);
        }
      }
    }
  }
  readInt(reader, map, "max_message", 1, kMaxBuffer, &zmq->max_message);
  if (const Entry* e = map.find("curve");
      e != nullptr && (bind == nullptr) != (connect == nullptr)) {
    zmq->curve =
        readCurve(reader, e->value, bind != nullptr ? CurveRole::kServer : CurveRole::kClient);
  }
}

// A time field declared in `fields:` must be of a type the time unit reads.
void checkTimeType(YamlReader& reader, const Entry* time, const SourceConfig& source) {
  if (time == nullptr || !source.time) return;
  for (const DeclaredField& field : source.fields) {
    if (field.path.segments != std::vector<std::string>{source.time->field}) continue;
    const bool text = source.time->unit == TimeUnit::kIso8601;
    if (text ? field.kind == FieldKind::kString
             : field.kind == FieldKind::kNumber || field.kind == FieldKind::kInteger) {
      return;
    }
    reader.error(time->value, "the time field " + quote(source.time->field) + " is declared " +
                                  std::string(fieldKindName(field.kind)) + ", and its unit reads " +
                                  (text ? "text" : "numbers"));
  }
}

// Keys left over after the schema of `kind` has been applied: keys of other kinds are named as
// such, the rest are unknown.
void reportLeftovers(YamlReader& reader, MapReader& map, const KindInfo* kind) {
  std::vector<std::string_view> known(std::begin(kCommonKeys), std::end(kCommonKeys));
  if (kind == nullptr || kind->kind != SourceKind::kGenerator) {
    known.insert(known.end(), std::begin(kCsvKeys), std::end(kCsvKeys));
  }
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
    // Without a kind there is no telling which keys are foreign; the kind is reported.
    if (kind == nullptr) continue;
    reader.error(entry->key_mark, entry->value.path,
                 quote(entry->key) + " is a key of " + joinAnd(owners) + " sources, not of " +
                     std::string(kind->name));
  }
  map.reportUnknown(known);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> readKafkaProperties(
    YamlReader& reader, const Entry& entry, std::span<const std::string_view> owned,
    std::string_view why) {
  std::vector<std::pair<std::string, std::string>> out;
  // Not reader.map(): its error quotes a scalar, and "sasl.password=..." written as one string
  // (the Java client's form) would print the password.
  if (entry.value.node.IsScalar()) {
    reader.error(entry.value,
                 "expected a map of librdkafka properties, got a string (not shown: it may hold "
                 "a password)");
    return out;
  }
  auto properties = reader.map(entry.value);
  if (!properties) return out;
  for (const Entry& property : properties->entries()) {
    properties->markUsed(property);
    const auto value = reader.scalar(property.value, "a property value (a string)");
    if (!value) continue;
    if (std::find(owned.begin(), owned.end(), property.key) != owned.end()) {
      reader.error(property.key_mark, property.value.path,
                   quote(property.key) + " is set by rivulet (" + std::string(why) + ")");
      continue;
    }
    out.emplace_back(property.key, *value);
  }
  return out;
}

bool hasKnownFields(const SourceInfo& source) {
  return source.results || source.kind == SourceKind::kGenerator || !source.csv_columns.empty();
}

void checkSourceField(YamlReader& reader, const Value& at, const FieldPath& field,
                      const SourceInfo& source) {
  if (!hasKnownFields(source)) return;
  if (field.segments.size() == 1 &&
      std::find(source.lookup_fields.begin(), source.lookup_fields.end(), field.segments.front()) !=
          source.lookup_fields.end()) {
    return;
  }
  const bool generator = source.kind == SourceKind::kGenerator;
  std::vector<std::string_view> fields;
  if (source.results) {
    fields.assign(source.result_fields.begin(), source.result_fields.end());
  } else if (generator) {
    const bool nexmark = source.profile == GeneratorProfile::kNexmark;
    using Fields = std::span<const std::string_view>;
    const Fields known = nexmark ? Fields(kNexmarkFields) : Fields(kGeneratorFields);
    fields.assign(known.begin(), known.end());
  } else {
    fields.assign(source.csv_columns.begin(), source.csv_columns.end());
  }
  if (field.segments.size() == 1 &&
      std::find(fields.begin(), fields.end(), field.segments.front()) != fields.end()) {
    return;
  }
  if (source.results) {
    reader.error(at, quote(field.toString()) + " is not a field of the results of pipeline " +
                         quote(source.name) + " (fields: " + joinComma(fields) + ")");
  } else if (generator) {
    reader.error(at, quote(field.toString()) + " is not a field of generator source " +
                         quote(source.name) + " (fields: " + joinComma(fields) + ")");
  } else {
    reader.error(at, quote(field.toString()) + " is not a column of csv source " +
                         quote(source.name) + " (columns: " + joinComma(fields) + ")");
  }
}

SourceConfig readSource(YamlReader& reader, const Entry& entry, SourceInfo* info) {
  SourceConfig source;
  source.name = entry.key;
  info->name = entry.key;
  reader.checkName(entry, "source");
  auto map = reader.map(entry.value);
  if (!map) return source;

  const KindInfo* kind = readKind(reader, *map);
  if (kind != nullptr) {
    source.kind = kind->kind;
    info->kind = source.kind;
  }
  const bool generator = info->kind == SourceKind::kGenerator;
  // First, since it decides which fields the time may be.
  if (generator) info->profile = source.generator.profile = readProfile(reader, *map);

  readFormat(reader, *map, &source, info);
  if (const Entry* e = map->find("time")) {
    source.time = readTime(reader, e->value, *info);
  } else if (generator) {
    const bool nexmark = info->profile == GeneratorProfile::kNexmark;
    source.time = TimeSpec{nexmark ? "dateTime" : "ts", TimeUnit::kMillis};
  }
  if (const Entry* e = map->find("watermark")) source.watermark = readWatermark(reader, e->value);
  if (const Entry* e = map->find("fields")) source.fields = readFields(reader, e->value, info);
  settleFieldTypes(info, source.fields);
  checkTimeType(reader, map->find("time"), source);

  if (info->kind == SourceKind::kGenerator) readGenerator(reader, *map, &source.generator);
  if (info->kind == SourceKind::kFile) readFile(reader, *map, &source.file);
  if (info->kind == SourceKind::kTcp) readTcp(reader, *map, &source.tcp);
  if (info->kind == SourceKind::kKafka) readKafka(reader, *map, &source.kafka);
  if (info->kind == SourceKind::kUdp) {
    readUdp(reader, *map, &source.udp);
    source.overflow = readOverflow(reader, *map);
  }
  if (info->kind == SourceKind::kZmq) {
    readZmq(reader, *map, &source.zmq);
    source.overflow = readOverflow(reader, *map);
  }
  reportLeftovers(reader, *map, kind);
  return source;
}

}  // namespace rivulet::config
