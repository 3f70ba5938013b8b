#include "daemon/http/metrics.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "daemon/version.h"
#include "pipeline/model/record.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::daemon {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

double value(const pipeline::Counter& c) {
  return static_cast<double>(c.load(std::memory_order_relaxed));
}

MetricFamily family(const char* name, const char* help, MetricType type) {
  return MetricFamily{name, help, type, {}};
}

ClientMetric& add(MetricFamily& f, std::vector<ClientMetric::Label> labels, double v) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = v;
  } else {
    m.gauge.value = v;
  }
  f.metric.push_back(std::move(m));
  return f.metric.back();
}

// A family of one unlabelled sample.
void appendOne(std::vector<MetricFamily>& out, const char* name, const char* help, MetricType type,
               double v) {
  out.push_back(family(name, help, type));
  add(out.back(), {}, v);
}

// The `kind` label of rivulet_results_published_total, indexed as PipelinePublishStats::published.
constexpr std::array<const char*, 3> kResultKinds = {"final", "partial", "update"};

// One pipeline's emit latency, in Prometheus' cumulative buckets.
ClientMetric latencyHistogram(const pipeline::PipelinePublishStats& stats,
                              const std::string& pipeline) {
  ClientMetric h;
  h.label = {{"pipeline", pipeline}};
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < pipeline::kLatencyBuckets.size(); ++b) {
    cumulative += stats.latency_buckets[b].load(std::memory_order_relaxed);
    h.histogram.bucket.push_back({cumulative, pipeline::kLatencyBuckets[b]});
  }
  cumulative += stats.latency_buckets.back().load(std::memory_order_relaxed);
  h.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
  h.histogram.sample_count = cumulative;
  h.histogram.sample_sum = stats.latency_sum.load(std::memory_order_relaxed);
  return h;
}

// How long each running engine thread has gone without a heartbeat: a stuck thread's age grows
// past the watchdog's limit (daemon/service/watchdog.h), an idle or held-back one stays near 0.1 s.
MetricFamily heartbeatAges(const Engine& engine) {
  auto ages =
      family("rivulet_thread_heartbeat_age_seconds",
             "Seconds since an engine thread (source, stage, publisher) last made progress.",
             MetricType::Gauge);
  for (const ThreadHeartbeat& beat : engine.heartbeats(pipeline::steadyNanos()))
    add(ages, {{"thread", beat.name}}, static_cast<double>(beat.age) * 1e-9);
  return ages;
}

}  // namespace

std::vector<FinalCount> finalCounts(const EngineMetrics& metrics) {
  std::vector<FinalCount> counts;
  for (const MetricFamily& f : metrics.Collect()) {
    if (f.type != MetricType::Counter || f.name.ends_with("_seconds_total")) continue;
    for (const ClientMetric& m : f.metric) {
      std::string line = f.name;
      for (std::size_t i = 0; i < m.label.size(); ++i) {
        line += (i == 0 ? "{" : ",") + m.label[i].name + "=\"" + m.label[i].value + "\"";
      }
      if (!m.label.empty()) line += "}";
      char number[32];
      std::snprintf(number, sizeof number, " %.0f", m.counter.value);
      counts.push_back({line + number, m.counter.value});
    }
  }
  return counts;
}

double residentMemoryBytes() {
  std::ifstream statm("/proc/self/statm");
  double pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return pages_resident * static_cast<double>(sysconf(_SC_PAGESIZE));
}

namespace {

// ---- the process (from /proc/self) and the stage threads' busy and idle time ----

constexpr double kNanosPerSecond = 1e9;

// The fields of /proc/self/stat after the command name, which may hold spaces and parentheses:
// fields[0] is the state (field 3 of proc(5)), so field n is fields[n - 3].
std::vector<std::string> procSelfStat() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  const std::size_t comm_end = line.rfind(')');
  std::vector<std::string> fields;
  if (comm_end == std::string::npos) return fields;
  std::istringstream rest(line.substr(comm_end + 1));
  for (std::string field; rest >> field;) fields.push_back(field);
  return fields;
}

double statField(const std::vector<std::string>& fields, std::size_t n) {
  return n - 3 < fields.size() ? std::strtod(fields[n - 3].c_str(), nullptr) : 0;
}

// Seconds since the epoch when this process started: boot time (/proc/stat "btime") plus the
// start in clock ticks since boot (/proc/self/stat field 22). Neither changes: read once.
double processStartTime(const std::vector<std::string>& stat) {
  static const double start = [&] {
    std::ifstream in("/proc/stat");
    double boot = 0;
    for (std::string key; in >> key;) {
      if (key == "btime") {
        in >> boot;
        break;
      }
      in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    return boot + statField(stat, 22) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }();
  return start;
}

// Open file descriptors: the entries of /proc/self/fd, less the one listing them.
double openFds() {
  std::error_code error;
  std::filesystem::directory_iterator fds("/proc/self/fd", error);
  if (error) return 0;
  double n = 0;
  for (auto it = begin(fds); it != end(fds); it.increment(error)) ++n;
  return n > 0 ? n - 1 : 0;
}

void appendProcessMetrics(std::vector<MetricFamily>& out) {
  const std::vector<std::string> stat = procSelfStat();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));

  appendOne(out, "rivulet_process_cpu_seconds_total", "User and system CPU time of the daemon.",
            MetricType::Counter, (statField(stat, 14) + statField(stat, 15)) / ticks);
  appendOne(out, "rivulet_process_threads", "Threads of the daemon.", MetricType::Gauge,
            statField(stat, 20));
  appendOne(out, "rivulet_process_open_fds", "Open file descriptors.", MetricType::Gauge,
            openFds());
  auto max_fds =
      family("rivulet_process_max_fds", "The limit on open file descriptors (soft RLIMIT_NOFILE).",
             MetricType::Gauge);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    add(max_fds, {},
        limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<double>::infinity()
                                        : static_cast<double>(limit.rlim_cur));
  }
  out.push_back(std::move(max_fds));
  appendOne(out, "rivulet_process_start_time_seconds",
            "Start time of the daemon, in seconds since the epoch.", MetricType::Gauge,
            processStartTime(stat));
}

void appendCheckpointMetrics(const CheckpointStats& stats, std::vector<MetricFamily>& out) {
  const auto load = [](const auto& atomic) {
    return static_cast<double>(atomic.load(std::memory_order_relaxed));
  };
  auto taken = family("rivulet_checkpoints_total",
                      "Checkpoints completed by every thread, by whether the file was written.",
                      MetricType::Counter);
  add(taken, {{"result", "written"}}, load(stats.written));
  add(taken, {{"result", "failed"}}, load(stats.failed));
  out.push_back(std::move(taken));
  appendOne(out, "rivulet_checkpoint_size_bytes", "Size of the last checkpoint written.",
            MetricType::Gauge, load(stats.last_bytes));
  appendOne(out, "rivulet_checkpoint_duration_seconds",
            "From the request of the last checkpoint written to its file being durable.",
            MetricType::Gauge, load(stats.last_duration_ns) / 1e9);
  appendOne(out, "rivulet_checkpoint_last_timestamp_seconds",
            "When the last checkpoint written was taken, seconds since the epoch; 0 before the "
            "first (alert on time() minus this).",
            MetricType::Gauge, load(stats.last_taken_at) / 1e9);
}

void appendReloadMetrics(const ReloadStats& stats, std::vector<MetricFamily>& out) {
  auto reloads = family("rivulet_config_reloads_total",
                        "Configuration reloads (SIGHUP), by result: applied, or failed (the file "
                        "was invalid or changed what needs a restart; the running one stayed).",
                        MetricType::Counter);
  add(reloads, {{"result", "applied"}},
      static_cast<double>(stats.applied.load(std::memory_order_relaxed)));
  add(reloads, {{"result", "failed"}},
      static_cast<double>(stats.failed.load(std::memory_order_relaxed)));
  out.push_back(std::move(reloads));
  appendOne(out, "rivulet_config_last_reload_successful",
            "1 if the last reload was applied (or none was asked for), 0 if it failed.",
            MetricType::Gauge, stats.last_ok.load(std::memory_order_relaxed) ? 1 : 0);
  appendOne(out, "rivulet_config_last_reload_success_timestamp_seconds",
            "When the running configuration was loaded (at start, or by the last reload applied), "
            "seconds since the epoch.",
            MetricType::Gauge,
            static_cast<double>(stats.last_applied_at.load(std::memory_order_relaxed)) / 1e9);
}

void appendOutputMetrics(const Engine& engine, std::vector<MetricFamily>& out) {
  if (engine.outputs().empty()) return;
  auto sent = family("rivulet_output_sent_total",
                     "Results an output of outputs: took (those of the pipelines it names).",
                     MetricType::Counter);
  auto delivered = family("rivulet_output_delivered_total",
                          "Messages a Kafka output's brokers acknowledged.", MetricType::Counter);
  auto errors = family("rivulet_output_errors_total",
                       "Messages a Kafka output gave up on (logged; Kafka sources then commit no "
                       "more offsets until a restart).",
                       MetricType::Counter);
  auto queued = family("rivulet_output_queue_messages",
                       "Messages in a Kafka output's producer queue, not yet acknowledged.",
                       MetricType::Gauge);
  for (const Engine::NamedOutput& o : engine.outputs()) {
    add(sent, {{"output", o.name}}, value(o.output->sent()));
    if (o.kafka == nullptr) continue;
    add(delivered, {{"output", o.name}}, value(o.kafka->delivered));
    add(errors, {{"output", o.name}}, value(o.kafka->errors));
    add(queued, {{"output", o.name}},
        static_cast<double>(o.kafka->queued.load(std::memory_order_relaxed)));
  }
  out.push_back(std::move(sent));
  for (MetricFamily* f : {&delivered, &errors, &queued}) {
    if (!f->metric.empty()) out.push_back(std::move(*f));
  }
}

void appendTableMetrics(const TableSet& tables, std::vector<MetricFamily>& out) {
  if (tables.size() == 0) return;
  auto rows = family("rivulet_table_rows",
                     "Rows (distinct keys) of a lookup table's version in use.", MetricType::Gauge);
  auto reloads = family("rivulet_table_reloads_total",
                        "A lookup table's file read again (changed, SIGHUP, or a config reload "
                        "reading more columns), by result: ok, or failed (the version before "
                        "stayed in use).",
                        MetricType::Counter);
  auto misses = family("rivulet_table_misses_total",
                       "Lookups whose key no row of the table has (their fields are null, or the "
                       "pipeline refuses the event with missing: refuse).",
                       MetricType::Counter);
  for (std::size_t t = 0; t < tables.size(); ++t) {
    const std::string& name = tables.name(t);
    add(rows, {{"table", name}}, static_cast<double>(tables.rows(t)));
    add(reloads, {{"table", name}, {"result", "ok"}}, static_cast<double>(tables.reloads(t)));
    add(reloads, {{"table", name}, {"result", "failed"}}, static_cast<double>(tables.failures(t)));
    add(misses, {{"table", name}}, static_cast<double>(tables.misses(t)));
  }
  out.push_back(std::move(rows));
  out.push_back(std::move(reloads));
  out.push_back(std::move(misses));
}

// One counter with a `state` label rather than a busy and an idle counter: the two states split
// one quantity, the stage thread's time, so summing over `state` is meaningful (as for
// node_cpu_seconds_total{mode}) and a stage's utilisation is one ratio of one metric.
void appendStageMetrics(const Engine& engine, std::vector<MetricFamily>& out) {
  auto time = family("rivulet_stage_seconds_total",
                     "Time a stage thread spent busy (processing input) or idle (waiting for it).",
                     MetricType::Counter);
  for (std::size_t i = 0; i < engine.stageCount(); ++i) {
    const pipeline::Stage& stage = engine.stage(i);
    const std::string index = std::to_string(i);
    add(time, {{"stage", index}, {"state", "busy"}},
        static_cast<double>(stage.busyNanos()) / kNanosPerSecond);
    add(time, {{"stage", index}, {"state", "idle"}},
        static_cast<double>(stage.idleNanos()) / kNanosPerSecond);
  }
  out.push_back(std::move(time));
}

// ---- the build and the memory it takes ----

void appendBuildMetrics(std::vector<MetricFamily>& out) {
  appendOne(out, "rivulet_process_resident_memory_bytes", "Resident set size.", MetricType::Gauge,
            residentMemoryBytes());
  auto build =
      family("rivulet_build_info", "Build information; the value is 1.", MetricType::Gauge);
  add(build, {{"version", kVersion}}, 1);
  out.push_back(std::move(build));
}

// ---- the sources: what each read, refused, dropped and waited for ----

void appendSourceMetrics(const Engine& engine, std::vector<MetricFamily>& out) {
  const config::Config& config = engine.config();
  auto events = family("rivulet_source_events_total", "Events parsed and accepted by a source.",
                       MetricType::Counter);
  auto errors = family("rivulet_source_errors_total",
                       "Events a source refused, by reason (each is counted once and skipped).",
                       MetricType::Counter);
  auto dropped =
      family("rivulet_source_dropped_total",
             "Events dropped by a source configured to drop on overflow.", MetricType::Counter);
  auto socket_drops =
      family("rivulet_source_socket_drops_total",
             "Datagrams the kernel dropped because a udp source's socket buffer (rcvbuf) was full.",
             MetricType::Counter);
  auto refused_connections =
      family("rivulet_source_connections_refused_total",
             "Clients a source refused: tcp over max_connections, zmq not let in by CURVE.",
             MetricType::Counter);
  auto waits = family("rivulet_ring_full_waits_total",
                      "Times a source found a stage ring full and waited (back-pressure).",
                      MetricType::Counter);
  auto bytes = family("rivulet_source_bytes_total",
                      "Bytes a tcp or udp source read from its socket.", MetricType::Counter);
  auto connections =
      family("rivulet_source_connections", "Clients connected to a tcp source.", MetricType::Gauge);
  for (std::size_t s = 0; s < config.sources.size(); ++s) {
    const pipeline::SourceStats& st = engine.sourceStats(s);
    const config::SourceConfig& source = config.sources[s];
    const std::string& name = source.name;
    add(events, {{"source", name}}, value(st.events));
    add(dropped, {{"source", name}}, value(st.dropped));
    if (source.kind == config::SourceKind::kUdp) {
      add(socket_drops, {{"source", name}}, value(st.socket_drops));
    }
    if (source.kind == config::SourceKind::kTcp ||
        (source.kind == config::SourceKind::kZmq && source.zmq.curve && source.zmq.bind)) {
      add(refused_connections, {{"source", name}}, value(st.connections_refused));
    }
    add(waits, {{"source", name}}, value(st.ring_full_waits));
    if (source.kind == config::SourceKind::kTcp || source.kind == config::SourceKind::kUdp) {
      add(bytes, {{"source", name}}, value(st.bytes));
    }
    if (source.kind == config::SourceKind::kTcp) {
      add(connections, {{"source", name}},
          static_cast<double>(st.connections.load(std::memory_order_relaxed)));
    }
    for (std::size_t r = 1; r < st.errors.size(); ++r) {
      const std::string reason(pipeline::reasonName(static_cast<pipeline::ErrorReason>(r)));
      add(errors, {{"source", name}, {"reason", reason}}, value(st.errors[r]));
    }
  }
  // A pipeline's results read by another are a source of that one: what was fed, refused and
  // waited for.
  for (const Engine::ResultStream& stream : engine.resultStreams()) {
    double fed = 0, waited = 0;
    std::vector<double> refused(static_cast<std::size_t>(pipeline::ErrorReason::kCount), 0);
    for (const pipeline::ResultFeed* feed : stream.feeds) {
      fed += value(feed->stats().events);
      waited += value(feed->stats().ring_full_waits);
      for (std::size_t r = 1; r < refused.size(); ++r) refused[r] += value(feed->stats().errors[r]);
    }
    add(events, {{"source", stream.name}}, fed);
    add(waits, {{"source", stream.name}}, waited);
    for (std::size_t r = 1; r < refused.size(); ++r) {
      const std::string reason(pipeline::reasonName(static_cast<pipeline::ErrorReason>(r)));
      add(errors, {{"source", stream.name}, {"reason", reason}}, refused[r]);
    }
  }
  for (MetricFamily* f : {&events, &errors, &dropped, &socket_drops, &refused_connections, &waits,
                          &bytes, &connections}) {
    out.push_back(std::move(*f));
  }
}

// ---- the pipelines: the stages' counters, summed over stages ----

void appendPipelineMetrics(const Engine& engine, const PipelineSet& set,
                           std::vector<MetricFamily>& out) {
  auto pipeline_events = family("rivulet_pipeline_events_total",
                                "Events added to a pipeline's windows.", MetricType::Counter);
  auto late = family("rivulet_pipeline_late_events_total",
                     "Events that arrived after every window they belong to had closed (dropped).",
                     MetricType::Counter);
  auto refused = family("rivulet_pipeline_keys_refused_total",
                        "Events refused because their key was new and the window slice already "
                        "held max_keys keys.",
                        MetricType::Counter);
  auto pipeline_refused =
      family("rivulet_pipeline_refused_total",
             "Events a pipeline could not evaluate (a where, key or argument of the wrong type, a "
             "missing key field...) while another pipeline of the source took them, by reason.",
             MetricType::Counter);
  auto dropped_results =
      family("rivulet_pipeline_results_dropped_total",
             "Results that did not fit a record (a bug: logged too).", MetricType::Counter);
  auto keys = family("rivulet_pipeline_keys",
                     "Distinct keys in the most recently fired window (session windows: keys with "
                     "an open session), summed over stages.",
                     MetricType::Gauge);
  auto entries = family("rivulet_pipeline_state_entries",
                        "(key, slice) aggregate states held in window state.", MetricType::Gauge);
  const std::size_t routers = engine.routerCount();
  const std::size_t stages = engine.stageCount();
  for (std::size_t p = 0; p < set.plans.size(); ++p) {
    const std::string& name = set.plans[p].name;
    double ev = 0, lt = 0, rf = 0, rd = 0, k = 0, e = 0;
    for (std::size_t i = 0; i < stages; ++i) {
      const pipeline::PipelineStageStats& st = *set.stage_stats[p * stages + i];
      ev += value(st.events);
      lt += value(st.late);
      rf += value(st.keys_refused);
      rd += value(st.results_dropped);
      k += value(st.keys);
      e += value(st.state_entries);
    }
    add(pipeline_events, {{"pipeline", name}}, ev);
    add(late, {{"pipeline", name}}, lt);
    add(refused, {{"pipeline", name}}, rf);
    for (const pipeline::ErrorReason reason : pipeline::kPipelineReasons) {
      double n = 0;
      for (std::size_t r = 0; r < routers; ++r) {
        n += value(set.source_stats[p * routers + r]->refused[static_cast<std::size_t>(reason)]);
      }
      add(pipeline_refused,
          {{"pipeline", name}, {"reason", std::string(pipeline::reasonName(reason))}}, n);
    }
    add(dropped_results, {{"pipeline", name}}, rd);
    add(keys, {{"pipeline", name}}, k);
    add(entries, {{"pipeline", name}}, e);
  }
  for (MetricFamily* f :
       {&pipeline_events, &late, &refused, &pipeline_refused, &dropped_results, &keys, &entries}) {
    out.push_back(std::move(*f));
  }
}

// ---- the results: what the publisher handed to the outputs, when, how late; the watermark ----

void appendResultMetrics(const Engine& engine, const PipelineSet& set,
                         std::vector<MetricFamily>& out) {
  auto published = family("rivulet_results_published_total",
                          "Window results handed to the outputs, by kind (final, update, partial).",
                          MetricType::Counter);
  auto lag = family("rivulet_watermark_lag_seconds",
                    "Wall clock minus the pipeline's event-time watermark (slowest stage).",
                    MetricType::Gauge);
  auto watermark_at = family("rivulet_watermark_seconds",
                             "The pipeline's event-time watermark (slowest stage), seconds since "
                             "the epoch; absent before the first.",
                             MetricType::Gauge);
  auto last_result = family("rivulet_last_result_timestamp_seconds",
                            "When the pipeline's last result was handed to the outputs (wall "
                            "clock), seconds since the epoch; 0 before the first.",
                            MetricType::Gauge);
  auto latency = family("rivulet_emit_latency_seconds",
                        "From the watermark passing a window's end (an update: its event "
                        "arriving) to the result handed to the outputs.",
                        MetricType::Histogram);
  const double now_s = static_cast<double>(pipeline::wallNanos()) * 1e-9;
  const std::size_t stages = engine.stageCount();
  for (std::size_t p = 0; p < set.plans.size(); ++p) {
    const std::string& name = set.plans[p].name;
    const pipeline::PipelinePublishStats& ps = *set.publish_stats[p];
    for (std::size_t k = 0; k < kResultKinds.size(); ++k) {
      add(published, {{"pipeline", name}, {"kind", kResultKinds[k]}}, value(ps.published[k]));
    }
    add(last_result, {{"pipeline", name}},
        static_cast<double>(ps.last_result_at.load(std::memory_order_relaxed)) * 1e-9);
    latency.metric.push_back(latencyHistogram(ps, name));
    std::int64_t watermark = pipeline::kMaxTime;
    for (std::size_t i = 0; i < stages; ++i) {
      watermark = std::min(
          watermark, set.stage_stats[p * stages + i]->watermark.load(std::memory_order_relaxed));
    }
    // Before the first watermark there is none to report; after the last (the input ended,
    // kMaxTime) neither.
    if (watermark != pipeline::kMinTime && watermark != 0 && watermark != pipeline::kMaxTime) {
      add(lag, {{"pipeline", name}}, now_s - static_cast<double>(watermark) * 1e-9);
      add(watermark_at, {{"pipeline", name}}, static_cast<double>(watermark) * 1e-9);
    }
  }
  for (MetricFamily* f : {&published, &lag, &watermark_at, &last_result, &latency}) {
    out.push_back(std::move(*f));
  }
}

// ---- the publisher's socket: subscribers and what ZeroMQ refused ----

void appendPublisherMetrics(const pipeline::PublisherStats& ps, std::vector<MetricFamily>& out) {
  appendOne(out, "rivulet_subscribers", "Connected ZeroMQ result subscribers.", MetricType::Gauge,
            static_cast<double>(ps.subscribers.load(std::memory_order_relaxed)));
  appendOne(out, "rivulet_publish_errors_total", "Results ZeroMQ refused to queue.",
            MetricType::Counter, value(ps.send_errors));
  appendOne(out, "rivulet_subscribers_refused_total",
            "Result subscribers CURVE did not let in (key not in publish_curve.clients).",
            MetricType::Counter, value(ps.subscribers_refused));
}

// ---- the Kafka sources' consumers ----

void appendKafkaMetrics(const Engine& engine, std::vector<MetricFamily>& out) {
  const config::Config& config = engine.config();
  auto consumer_lag =
      family("rivulet_kafka_consumer_lag",
             "Messages between a partition's end and this consumer's position.", MetricType::Gauge);
  auto rebalances =
      family("rivulet_kafka_rebalances_total",
             "Partitions assigned or revoked by the consumer group.", MetricType::Counter);
  auto commits = family("rivulet_kafka_commits_total", "Offset commits, by result (ok or error).",
                        MetricType::Counter);
  auto consumer_errors = family("rivulet_kafka_consumer_errors_total",
                                "Errors librdkafka reported to the consumer.", MetricType::Counter);
  for (std::size_t s = 0; s < config.sources.size(); ++s) {
    const connectors::KafkaStats* kafka = engine.kafkaStats(s);
    if (kafka == nullptr) continue;
    const std::string& name = config.sources[s].name;
    for (const connectors::KafkaStats::Lag& l : kafka->lag()) {
      add(consumer_lag, {{"topic", l.topic}, {"partition", std::to_string(l.partition)}},
          static_cast<double>(l.messages));
    }
    add(rebalances, {{"source", name}}, value(kafka->rebalances));
    add(commits, {{"source", name}, {"result", "ok"}}, value(kafka->commits));
    add(commits, {{"source", name}, {"result", "error"}}, value(kafka->commit_errors));
    add(consumer_errors, {{"source", name}}, value(kafka->consumer_errors));
  }
  for (MetricFamily* f : {&consumer_lag, &rebalances, &commits, &consumer_errors}) {
    out.push_back(std::move(*f));
  }
}

}  // namespace

std::vector<MetricFamily> EngineMetrics::Collect() const {
  std::vector<MetricFamily> out;
  // One set for the whole scrape: a reload may swap the engine's meanwhile.
  const std::shared_ptr<const PipelineSet> set = engine_.pipelineSet();
  appendSourceMetrics(engine_, out);
  appendPipelineMetrics(engine_, *set, out);
  appendResultMetrics(engine_, *set, out);
  appendPublisherMetrics(engine_.publisherStats(), out);
  appendBuildMetrics(out);
  appendKafkaMetrics(engine_, out);
  out.push_back(heartbeatAges(engine_));
  appendProcessMetrics(out);
  appendStageMetrics(engine_, out);
  appendTableMetrics(engine_.tables(), out);
  appendOutputMetrics(engine_, out);
  if (checkpoints_ != nullptr) appendCheckpointMetrics(*checkpoints_, out);
  if (reloads_ != nullptr) appendReloadMetrics(*reloads_, out);
  return out;
}

}  // namespace rivulet::daemon
