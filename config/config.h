// The validated, typed form of a rivulet YAML config (README: "Writing a config"). Everything
// downstream reads this, never YAML: once loadFile() returns a Config it is known to be complete
// and consistent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/expression/expression.h"

namespace rivulet::config {

// Durations and timestamps are int64 nanoseconds throughout rivulet.
using Nanos = std::int64_t;

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;

  bool operator==(const Endpoint&) const = default;
};

struct CpuPlan {
  std::vector<int> sources;  // empty: not pinned
  std::vector<int> stages;   // empty: default spread
  std::optional<int> publisher;

  bool operator==(const CpuPlan&) const = default;
};

// daemon.checkpoint: aligned checkpoints of all window state and source positions.
struct CheckpointSpec {
  std::string dir;  // where the checkpoint file lives (created if missing)
  Nanos interval = 10'000'000'000;

  bool operator==(const CheckpointSpec&) const = default;
};

// ZeroMQ CURVE on a socket: encrypted, and on the server side only the listed clients get in.
// The keys (Z85 text) are read from the files the config names when it is loaded, so --check
// checks them too. A server (the result socket, a zmq source that binds) has a secret key and
// the public keys of the clients it lets in; a client (a zmq source that connects) has a secret
// key and the server's public key.
struct CurveSpec {
  std::string secret_key;
  std::string public_key;            // of secret_key
  std::vector<std::string> clients;  // server: the client public keys let in, sorted, unique
  std::string server_key;            // client: the server's public key

  bool operator==(const CurveSpec&) const = default;
};

struct DaemonConfig {
  Endpoint metrics{"127.0.0.1", 9464};
  // `metrics: unix:/path`: the absolute path of a unix socket to serve metrics on instead of
  // `metrics` (no TCP port is opened then). Empty: serve on `metrics`.
  std::string metrics_socket;
  std::vector<std::string> publish{"tcp://127.0.0.1:5556"};
  // Results queued per subscriber before ZeroMQ drops that subscriber's (only): a slow or stuck
  // subscriber never holds the pipeline back, and sees the drop as a gap in `seq`.
  int publish_hwm = 1'000'000;
  std::optional<CurveSpec> publish_curve;  // nullopt: results in the clear, to anyone who connects
  std::string output;                      // empty: no file sink; "-": stdout
  int stages = 0;                          // 0: cores - 1, at least 1 (resolved by the daemon)
  std::optional<CpuPlan> cpus;
  std::string log_level = "info";
  std::optional<CheckpointSpec> checkpoint;
  // How long stages and the publisher spin after their last input before they park: lower
  // window-close latency at low and middling rates, for up to a core each while input trickles.
  // 0: park at once (after a few hundred pauses), as by default.
  Nanos idle_spin = 0;

  bool operator==(const DaemonConfig&) const = default;
};

// kIso8601: the field is RFC 3339 / ISO-8601 text with a zone (pipeline/model/event_time.h).
enum class TimeUnit { kSeconds, kMillis, kMicros, kNanos, kIso8601 };

struct TimeSpec {
  std::string field;  // dotted path is not supported in this slice: a top-level field name
  TimeUnit unit = TimeUnit::kMillis;

  bool operator==(const TimeSpec&) const = default;
};

struct WatermarkSpec {
  Nanos delay = 0;
  Nanos idle = 0;        // 0: never considered idle
  Nanos max_future = 0;  // 0: no clamp

  bool operator==(const WatermarkSpec&) const = default;
};

// A field's type as a source's `fields:` declares it: every event's value of the field must have
// it (null and missing stay allowed), and expressions are checked against it at load.
enum class FieldKind { kNumber, kInteger, kString, kBool };

struct DeclaredField {
  FieldPath path;
  FieldKind kind = FieldKind::kNumber;

  bool operator==(const DeclaredField&) const = default;
};

enum class SourceKind { kGenerator, kFile, kTcp, kUdp, kZmq, kKafka };

// How a source's lines (file, tcp), datagrams (udp) or messages (zmq) are read into events.
enum class Format { kJson, kCsv };

// format: csv. At least one of `columns` and `header` is set (the loader checks).
struct CsvSpec {
  std::vector<std::string> columns;  // the field of each column, in order; empty: from the header
  bool header = false;  // the first line of each stream (a file, a tcp connection) is a header:
                        // it names the columns, or is skipped when `columns` is given

  bool operator==(const CsvSpec&) const = default;
};

// What a source does with an event when a stage ring it goes to is full.
enum class Overflow {
  kBlock,  // wait for room (back-pressure: the sender or the kernel buffer absorbs it)
  kDrop,   // drop the event and count it in rivulet_source_dropped_total
};

// What a generator's events look like.
enum class GeneratorProfile {
  kKeys,     // {ts, key, value}: `keys` keys "k<n>", values uniform in [0, 1)
  kNexmark,  // NEXMark's persons, auctions and bids: config/sections.h lists their fields
};

struct GeneratorSpec {
  GeneratorProfile profile = GeneratorProfile::kKeys;
  std::int64_t keys = 1000;
  std::int64_t events_per_second = 100000;
  std::optional<std::int64_t> start_ms;  // nullopt: "now" at start-up
  std::int64_t throttle = 0;             // wall-clock events/s, 0 = unthrottled
  std::int64_t count = 0;                // 0 = endless
  std::uint64_t seed = 1;

  bool operator==(const GeneratorSpec&) const = default;
};

struct FileSpec {
  std::string path;  // "-" = stdin
  bool follow = false;

  bool operator==(const FileSpec&) const = default;
};

struct TcpSpec {
  Endpoint listen;
  std::int64_t max_line = 1 << 20;
  std::int64_t max_connections = 64;

  bool operator==(const TcpSpec&) const = default;
};

struct KafkaSpec {
  std::string brokers;  // bootstrap.servers
  std::vector<std::string> topics;
  std::string group;  // group.id
  // Passed to librdkafka as given, after rivulet's own settings: SASL, TLS, fetch
  // sizes... The settings rivulet owns (kKafkaOwnedProperties) are refused by the loader.
  std::vector<std::pair<std::string, std::string>> properties;
  // How often the source offers to commit: it commits the offsets whose events are in published
  // windows (at-least-once), at most this often.
  Nanos commit_interval = 1'000'000'000;

  bool operator==(const KafkaSpec&) const = default;
};

// librdkafka properties rivulet sets itself: the group and brokers have keys of their own, and the
// offsets are committed by rivulet only once the windows of the events before them are published.
inline constexpr std::string_view kKafkaOwnedProperties[] = {
    "bootstrap.servers", "metadata.broker.list", "group.id", "enable.auto.commit",
    "enable.auto.offset.store"};
struct UdpSpec {
  Endpoint listen;
  std::int64_t rcvbuf = 0;            // SO_RCVBUF in bytes; 0: the system default
  std::int64_t max_datagram = 65535;  // longer datagrams are counted as truncated

  bool operator==(const UdpSpec&) const = default;
};

enum class ZmqSocketType { kSub, kPull };

struct ZmqSpec {
  ZmqSocketType socket = ZmqSocketType::kSub;
  std::string endpoint;                    // tcp:// or ipc://
  bool bind = false;                       // bind to the endpoint; else connect to it
  std::vector<std::string> subscribe{""};  // SUB: topic prefixes; "" is everything
  std::int64_t max_message = 1 << 20;      // longer messages are counted as truncated
  std::optional<CurveSpec> curve;          // server side when bound, client side when connecting

  bool operator==(const ZmqSpec&) const = default;
};

struct SourceConfig {
  std::string name;
  SourceKind kind = SourceKind::kGenerator;
  Format format = Format::kJson;
  CsvSpec csv;                           // format: csv
  Overflow overflow = Overflow::kBlock;  // udp and zmq; the other kinds always block
  std::optional<TimeSpec> time;  // nullopt: processing time (generator: defaults to ts in ms)
  WatermarkSpec watermark;
  std::vector<DeclaredField> fields;  // `fields:`, in the order written
  GeneratorSpec generator;
  FileSpec file;
  TcpSpec tcp;
  KafkaSpec kafka;
  UdpSpec udp;
  ZmqSpec zmq;

  bool operator==(const SourceConfig&) const = default;
};

enum class WindowKind { kTumbling, kHopping, kSession };

struct WindowSpec {
  WindowKind kind = WindowKind::kTumbling;
  Nanos size = 0;   // session windows: the gap
  Nanos slide = 0;  // == size for tumbling, 0 for session

  bool operator==(const WindowSpec&) const = default;
};

enum class AggregateKind {
  kCount,
  kSum,
  kMin,
  kMax,
  kAvg,
  kFirst,
  kLast,
  kStddev,
  kVariance,
  kCountIf,        // count_if(condition): events the condition is true for
  kQuantile,       // quantile(x, q) and median, p50, p90, p95, p99, p999 (x)
  kCountDistinct,  // count_distinct(x): distinct numbers (by value), strings and bools
  kTopK,           // top_k(x, k): the k most frequent values
};

// The largest k of top_k(x, k): its result, k items of up to kMaxItemBytes (pipeline/
// value_slot.h) with their counts, must fit one result message with the key and the other
// aggregates.
inline constexpr std::int64_t kMaxTopK = 25;

struct AggregateSpec {
  std::string name;  // output name, the key under "values"
  AggregateKind kind = AggregateKind::kCount;
  // The argument: a field name, or the canonical text of `argument` when it is an expression
  // (equal texts share one value in the event record); empty for count().
  std::string field;
  std::optional<Expression> argument{};  // an argument that is not a bare field name
  double quantile = 0;                   // kQuantile: q in [0, 1]
  std::int64_t k = 0;                    // kTopK: in [1, kMaxTopK]
  // An aggregate called inside a computed value or `having:` (`sum(qty)` in
  // `vwap: sum(price * qty) / sum(qty)`): kept for them, not a value of the results. Its name is
  // the call as written, which no name of the config can be.
  bool hidden = false;

  bool operator==(const AggregateSpec&) const = default;
};

// One group_by entry: a top-level field, or an expression under a name of its own
// (`bucket: floor(price / 10)`).
struct GroupBySpec {
  std::string name;  // the key's name in results: the field's name, or the expression's alias
  std::optional<Expression> expression{};  // set for `alias: expression`; else `name` is a field

  bool operator==(const GroupBySpec&) const = default;
};

// A value of the results computed from the aggregates when a window fires
// (`vwap: sum(price * qty) / sum(qty)`, `range: max(price) - min(price)`). Its expression reads
// aggregates (by their name, or called inline: hidden aggregates), the group_by keys and the
// computed values before it.
struct ComputedSpec {
  std::string name;
  Expression expression;
  std::size_t position = 0;  // where it stands among the results' values, in config order

  bool operator==(const ComputedSpec&) const = default;
};

// `top:`: of each window's results, only the n first by an expression over the results' names
// (Flink's window Top-N): ranked across every stage once the window is complete.
struct TopSpec {
  std::int64_t n = 1;
  Expression by;           // a number; null ranks last
  bool ascending = false;  // order: asc keeps the n smallest
  // ties: keep (default) also keeps the results equal to the n-th; drop keeps exactly n, the
  // equal ones in key order.
  bool keep_ties = true;

  bool operator==(const TopSpec&) const = default;
};

// The most results `top:` keeps per window (ties kept beyond it).
inline constexpr std::int64_t kMaxTopN = 10'000;

// One input of a window join: the source or pipeline it reads, which of its events it takes, the
// key it joins on and the fields each joined row carries.
struct JoinSide {
  std::string from;
  std::vector<GroupBySpec> key;     // compared part by part with the other side's
  std::vector<GroupBySpec> fields;  // the row's values in results
  std::optional<Expression> where;

  bool operator==(const JoinSide&) const = default;
};

// `join:` (a window join): the rows of two inputs with equal keys in the same window, one result
// per joined row; `left` also keeps a left row that no right row matches, its right fields null.
struct JoinSpec {
  bool left_outer = false;
  JoinSide left, right;

  bool operator==(const JoinSpec&) const = default;
};

// `tables:` one table: rows of a CSV (with a header line) or JSON-lines file, looked up by the
// text of one column. Read at start, and again when the file changes or on SIGHUP.
struct TableSpec {
  std::string name;
  std::string path;
  Format format = Format::kCsv;
  std::string key;  // the column rows are found by
  // The columns the pipelines' lookups read, each once, and where the first names it (for the
  // error when the file has no such column): "file:line:column: path".
  std::vector<std::string> columns;
  std::vector<std::string> columns_at;
  std::string at;  // where the table's path is given, in the same form

  // Locations are not part of the table: a reload that only moves lines changes nothing.
  bool operator==(const TableSpec& o) const {
    return name == o.name && path == o.path && format == o.format && key == o.key &&
           columns == o.columns;
  }
};

// A pipeline's `lookup:` entry: fields of its events taken from a table's row whose key column
// equals `key` evaluated over the event (a field or an expression; earlier lookups' fields too).
struct LookupSpec {
  std::size_t table = 0;  // index into Config::tables
  Expression key;
  std::vector<std::pair<std::string, std::string>> fields;  // (field name, the table's column)
  // missing: refuse: an event whose key is in no row is refused by the pipeline (and counted);
  // by default (null) its fields are null.
  bool refuse_missing = false;

  bool operator==(const LookupSpec&) const = default;
};

struct PipelineConfig {
  std::string name;
  // Source names, each known; or the name of one pipeline, whose results it reads
  // (config/plan_graph.h).
  std::vector<std::string> from;
  std::vector<GroupBySpec> group_by;  // in config order, names unique
  WindowSpec window;
  Nanos allowed_lateness = 0;
  bool emit_updates = false;              // emit: updates (default final)
  bool late_topic = false;                // late: { topic: true }: also on _late/<name>/
  std::optional<Expression> where;        // a bool filter; events it is not true for are skipped
  std::int64_t max_keys = 0;              // keys per window slice and stage bound; 0: no bound
  std::vector<AggregateSpec> aggregates;  // at least one, in config order; hidden ones last
  std::vector<ComputedSpec> computed;     // in config order
  // A bool filter on results, over the same names as a computed value and the computed values:
  // a result it is not true for is not published.
  std::optional<Expression> having;
  std::optional<TopSpec> top;
  // publish: false: its results go only to the pipelines reading it, not to the outputs.
  bool publish = true;
  // A window join instead of aggregates: `from` then names its sides' inputs, `group_by` is the
  // left side's key (the results' key) and there are no aggregates.
  std::optional<JoinSpec> join;
  // Enrichment, in order, before where, group_by and aggregates see the event.
  std::vector<LookupSpec> lookups;

  bool operator==(const PipelineConfig&) const = default;
};

// `outputs:` one output: where results go besides the result socket.
enum class OutputKind { kFile, kKafka };
// kafka: at_least_once (an idempotent producer; a Kafka source's offsets are committed only
// once every result before them is acknowledged by the brokers).
enum class Delivery { kAtLeastOnce };
struct OutputSpec {
  std::string name;
  OutputKind kind = OutputKind::kFile;
  std::string path;                    // file: appended to; "-" for stdout
  std::vector<std::string> pipelines;  // the pipelines whose results it takes; empty: every one
  // kafka: each result one message, its key the result's topic, its value the JSON payload.
  std::string brokers;  // bootstrap.servers
  std::string topic;
  Delivery delivery = Delivery::kAtLeastOnce;
  // Passed to librdkafka as given, after rivulet's own settings (kKafkaOutputOwnedProperties are
  // refused by the loader).
  std::vector<std::pair<std::string, std::string>> properties;
  bool markers = false;  // end-of-window markers too (`_window/<pipeline>/`)
  bool late = false;     // late events too (`_late/<pipeline>/`)

  bool operator==(const OutputSpec&) const = default;
};

// librdkafka properties a Kafka output sets itself: the brokers have a key of their own, and the
// producer must be idempotent and wait for every replica, or at_least_once would not hold.
inline constexpr std::string_view kKafkaOutputOwnedProperties[] = {
    "bootstrap.servers", "metadata.broker.list", "enable.idempotence", "acks",
    "request.required.acks"};

struct Config {
  std::string file;  // the path it was loaded from, for messages
  DaemonConfig daemon;
  std::vector<SourceConfig> sources;      // in config order
  std::vector<PipelineConfig> pipelines;  // in config order
  std::vector<TableSpec> tables;          // in config order
  std::vector<OutputSpec> outputs;        // in config order

  bool operator==(const Config&) const = default;
};

}  // namespace rivulet::config
