#include "daemon/engine.h"

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>

#include <algorithm>
#include <functional>
#include <stdexcept>

#include "config/plan_graph.h"
#include "connectors/kafka/kafka_output.h"
#include "connectors/make_source.h"
#include "connectors/outputs/file_output.h"
#include "connectors/outputs/selected_output.h"
#include "daemon/log.h"
#include "pipeline/model/hash.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::daemon {
namespace {

// 4 MiB per ring: ~130,000 short events, at ~30 ns per event ~4 ms of a stage's work, enough to
// ride out a scheduling hiccup without back-pressuring the source.
constexpr std::size_t kSourceRingCells = (4 << 20) / sizeof(pipeline::Cell);
constexpr std::size_t kResultRingCells = (4 << 20) / sizeof(pipeline::Cell);
// 1 MiB per stage pair of a results stream: one result is one event, far fewer than a source's.
constexpr std::size_t kFeedRingCells = (1 << 20) / sizeof(pipeline::Cell);

// The cpus this process may run on, ascending: its affinity mask as started (taskset, a unit's
// CPUAffinity=, a cgroup's cpuset), not every cpu of the machine.
std::vector<int> allowedCpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  if (cpus.empty()) {
    for (int c = 0; c < std::max(1, static_cast<int>(std::thread::hardware_concurrency())); ++c)
      cpus.push_back(c);
  }
  return cpus;
}

// "0-3,6": a cpu list as taskset and CPUAffinity= write it.
std::string cpuList(const std::vector<int>& cpus) {
  std::string out;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(cpus[i]);
    if (j > i) out += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

// Explicit pins must stay within the cpus the process was given: pinning a thread elsewhere
// would succeed (an affinity mask is only where a process starts) and quietly defeat the
// operator's CPUAffinity=.
void checkPins(const config::CpuPlan& plan, const std::vector<int>& allowed) {
  std::vector<int> pins = plan.stages;
  pins.insert(pins.end(), plan.sources.begin(), plan.sources.end());
  if (plan.publisher) pins.push_back(*plan.publisher);
  for (const int cpu : pins) {
    if (std::find(allowed.begin(), allowed.end(), cpu) == allowed.end()) {
      throw std::runtime_error("daemon.cpus: cpu " + std::to_string(cpu) +
                               " is not among the cpus this process may run on (" +
                               cpuList(allowed) +
                               "; set by taskset, the unit's CPUAffinity= or a cpuset)");
    }
  }
}

void nameAndPin(const std::string& name, int cpu) {
  pthread_setname_np(pthread_self(), name.c_str());
  // The kernel's default 50 us timer slack would turn a backoff's 1 us sleep into 50-60 us.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
    logWarn(name + ": cannot pin to cpu " + std::to_string(cpu));
  }
}

}  // namespace

int resolvedStages(const config::Config& config) {
  const int cpus = static_cast<int>(allowedCpus().size());
  return config.daemon.stages > 0 ? config.daemon.stages : std::max(1, cpus - 1);
}

// What checkpointed state means depends on: the number of stages (keys are spread by hash over
// them), each pipeline's window, key and aggregates, and the sources (positions are per source).
std::uint64_t checkpointFingerprint(const config::Config& config) {
  const int stages = resolvedStages(config);
  std::vector<pipeline::PipelinePlan> plans;
  for (std::size_t p = 0; p < config.pipelines.size(); ++p) {
    plans.push_back(pipeline::compilePipeline(config, p, static_cast<std::size_t>(stages)));
  }
  std::string text = "stages " + std::to_string(stages) + "\n";
  for (const config::SourceConfig& source : config.sources) {
    text += "source " + source.name + " " + std::to_string(static_cast<int>(source.kind)) + "\n";
  }
  for (const pipeline::PipelinePlan& plan : plans) {
    text += "pipeline " + plan.name + " " + std::to_string(plan.session) + " " +
            std::to_string(plan.gap) + " " + std::to_string(plan.size) + " " +
            std::to_string(plan.slide) + " " + std::to_string(plan.allowed_lateness) + " " +
            std::to_string(plan.emit_updates) + " " + std::to_string(plan.max_keys) + "\n";
    for (const config::GroupBySpec& g : plan.group_by) text += " key " + g.name + "\n";
    for (const config::AggregateSpec& a : plan.aggregates) {
      text += " aggregate " + a.name + " " + std::to_string(static_cast<int>(a.kind)) + " " +
              a.field + " " + std::to_string(a.quantile) + " " + std::to_string(a.k) + "\n";
    }
    for (const std::string& field : plan.value_fields) text += " value " + field + "\n";
    // Which stream it reads: a pipeline reading another keeps its state in another tier.
    text += " tier " + std::to_string(plan.tier) + "\n";
    for (const std::string& from : config.pipelines[plan.id].from) text += " from " + from + "\n";
  }
  return pipeline::hashKey(text);
}

Engine::Engine(const config::Config& config, const CheckpointData* restored)
    : config_(config), context_(1) {
  const std::vector<int> allowed = allowedCpus();
  const int n_cores = static_cast<int>(allowed.size());
  const int n_stages = resolvedStages(config_);

  // Pinning: explicit cpus win; by default stages take the last allowed cpus one each and
  // everything else floats on what is left (on one cpu nothing is pinned).
  if (config_.daemon.cpus) {
    const config::CpuPlan& cpus = *config_.daemon.cpus;
    checkPins(cpus, allowed);
    for (int i = 0; i < n_stages; ++i)
      stage_cpus_.push_back(cpus.stages.empty() ? -1 : cpus.stages[i % cpus.stages.size()]);
    for (std::size_t i = 0; i < config_.sources.size(); ++i)
      source_cpus_.push_back(cpus.sources.empty() ? -1 : cpus.sources[i % cpus.sources.size()]);
    publisher_cpu_ = cpus.publisher.value_or(-1);
  } else {
    for (int i = 0; i < n_stages; ++i)
      stage_cpus_.push_back(n_cores > 1 ? allowed[n_cores - 1 - i % (n_cores - 1)] : -1);
    source_cpus_.assign(config_.sources.size(), -1);
  }

  // A plan whose pipelines read pipelines runs in tiers (config/plan_graph.h), each on stages
  // of its own: stage i of every tier shares stage i's cpu.
  const std::vector<int> tiers = config::pipelineTiers(config_);
  const int n_tiers = 1 + (tiers.empty() ? 0 : *std::max_element(tiers.begin(), tiers.end()));
  for (int t = 1; t < n_tiers; ++t) {
    for (int i = 0; i < n_stages; ++i)
      stage_cpus_.push_back(stage_cpus_[static_cast<std::size_t>(i)]);
  }
  const int n_all = n_stages * n_tiers;
  n_stages_ = static_cast<std::size_t>(n_stages);
  n_all_stages_ = static_cast<std::size_t>(n_all);
  // The routers: each source's, then each upstream stage's per stream it feeds.
  n_routers_ = config_.sources.size() + readPipelines(config_).size() * n_stages_;
  tables_ = std::make_unique<TableSet>(config_.tables, n_routers_);
  set_ = buildSet(config_.pipelines, nullptr);
  const PipelineSet& set = *set_;

  for (std::size_t s = 0; s < config_.sources.size(); ++s) {
    source_stats_.push_back(std::make_unique<pipeline::SourceStats>());
    kafka_stats_.push_back(config_.sources[s].kind == config::SourceKind::kKafka
                               ? std::make_unique<connectors::KafkaStats>()
                               : nullptr);
    for (int i = 0; i < n_stages; ++i)
      source_rings_.push_back(std::make_unique<pipeline::Ring>(kSourceRingCells));
  }
  for (int i = 0; i < n_all; ++i)
    result_rings_.push_back(std::make_unique<pipeline::Ring>(kResultRingCells));
  // The streams of results: per pipeline read, a ring from each stage of its tier to each stage
  // of the next, [(stream * stages + from) * stages + to].
  std::vector<std::size_t> fed;  // the pipelines read, in stream order
  for (std::size_t p = 0; p < set.plans.size(); ++p) {
    if (set.plans[p].read) fed.push_back(p);
  }
  for (std::size_t r = 0; r < fed.size() * n_stages_ * n_stages_; ++r) {
    feed_rings_.push_back(std::make_unique<pipeline::Ring>(kFeedRingCells));
  }
  const auto feedRing = [&](std::size_t k, std::size_t from, std::size_t to) {
    return feed_rings_[(k * n_stages_ + from) * n_stages_ + to].get();
  };

  zmq_ = std::make_unique<connectors::ZmqOutput>(
      context_, config_.daemon.publish, config_.daemon.publish_hwm,
      config_.daemon.publish_curve ? &*config_.daemon.publish_curve : nullptr, publisher_stats_);
  std::vector<pipeline::ResultOutput*> outputs{zmq_.get()};
  if (!config_.daemon.output.empty()) {
    outputs_.push_back(std::make_unique<connectors::FileOutput>(config_.daemon.output));
    outputs.push_back(outputs_.back().get());
  }
  for (const config::OutputSpec& spec : config_.outputs) {
    std::unique_ptr<pipeline::ResultOutput> sink;
    connectors::KafkaOutputStats* kafka = nullptr;
    if (spec.kind == config::OutputKind::kKafka) {
      output_stats_.push_back(std::make_unique<connectors::KafkaOutputStats>());
      kafka = output_stats_.back().get();
      // The publisher is made below, with the outputs; the output beats only while it runs.
      sink =
          std::make_unique<connectors::KafkaOutput>(spec, *kafka, [this] { publisher_->beat(); });
    } else {
      try {
        sink = std::make_unique<connectors::FileOutput>(spec.path);
      } catch (const std::exception& e) {
        throw std::runtime_error("outputs." + spec.name + ": " + e.what());
      }
    }
    auto output = std::make_unique<connectors::SelectedOutput>(std::move(sink), spec.pipelines);
    named_outputs_.push_back(NamedOutput{spec.name, output.get(), kafka});
    outputs.push_back(output.get());
    outputs_.push_back(std::move(output));
  }
  std::vector<pipeline::Ring*> results;
  for (auto& r : result_rings_) results.push_back(r.get());
  // Every tier's stages: a mark is safe once the results of every tier it covers are out.
  commits_ = std::make_unique<pipeline::CommitBoard>(config_.sources.size(), n_all_stages_);
  std::vector<int> stage_tiers;
  for (int g = 0; g < n_all; ++g) stage_tiers.push_back(g / n_stages);
  publisher_ = std::make_unique<pipeline::Publisher>(
      set.plans, std::move(results), std::move(outputs), publisher_stats_, set.change.publish_stats,
      commits_.get(), stage_tiers);
  publisher_->setIdleSpin(config_.daemon.idle_spin);

  const std::size_t n_sources = config_.sources.size();
  for (std::size_t g = 0; g < n_all_stages_; ++g) {
    const std::size_t tier = g / n_stages_;
    const std::size_t i = g % n_stages_;
    std::vector<pipeline::Ring*> inputs;
    std::vector<int> input_streams;
    if (tier == 0) {
      for (std::size_t s = 0; s < n_sources; ++s) {
        inputs.push_back(source_rings_[s * n_stages_ + i].get());
        input_streams.push_back(static_cast<int>(s));
      }
    }
    for (std::size_t k = 0; k < fed.size(); ++k) {
      if (static_cast<std::size_t>(set.plans[fed[k]].tier) + 1 != tier) continue;
      for (std::size_t from = 0; from < n_stages_; ++from) {
        inputs.push_back(feedRing(k, from, i));
        input_streams.push_back(static_cast<int>(n_sources + k));
      }
    }
    stages_.push_back(std::make_unique<pipeline::Stage>(
        set.plans, set.aggregates, std::move(inputs), *result_rings_[g], set.change.stage_stats[g],
        &publisher_->doorbell(), std::move(input_streams), static_cast<int>(tier)));
    stages_.back()->setIdleSpin(config_.daemon.idle_spin);
  }
  // Each stage of a read pipeline's tier feeds its results to the next tier's stages.
  for (std::size_t k = 0; k < fed.size(); ++k) {
    const pipeline::PipelinePlan& upstream = set.plans[fed[k]];
    const auto tier = static_cast<std::size_t>(upstream.tier);
    result_streams_.push_back(ResultStream{upstream.name, {}});
    for (std::size_t from = 0; from < n_stages_; ++from) {
      std::vector<pipeline::Ring*> rings;
      std::vector<pipeline::Doorbell*> bells;
      for (std::size_t to = 0; to < n_stages_; ++to) {
        rings.push_back(feedRing(k, from, to));
        bells.push_back(&stages_[(tier + 1) * n_stages_ + to]->doorbell());
      }
      const std::size_t g = tier * n_stages_ + from;
      auto feed = std::make_unique<pipeline::ResultFeed>(upstream, set.change.feeds[g][upstream.id],
                                                         std::move(rings), std::move(bells));
      result_streams_.back().feeds.push_back(feed.get());
      stages_[tier * n_stages_ + from]->feed(upstream.id, std::move(feed));
    }
  }

  // The board carries the barriers of checkpoints (with daemon.checkpoint) and of reloads.
  fingerprint_ = checkpointFingerprint(config_);
  checkpoints_ = std::make_unique<pipeline::CheckpointBoard>(config_.sources.size(), n_all_stages_,
                                                             config_.daemon.checkpoint.has_value());
  if (restored != nullptr) checkpoints_->resume(restored->id);
  publisher_->joinCheckpoints(*checkpoints_);
  for (std::size_t i = 0; i < stages_.size(); ++i) stages_[i]->joinCheckpoints(*checkpoints_, i);
  if (restored != nullptr) {
    const auto unusable = [](const std::string& part) {
      return std::runtime_error("checkpoint: the state of " + part +
                                " cannot be restored (corrupt, or from another version)");
    };
    if (restored->stages.size() != stages_.size() ||
        restored->sources.size() != config_.sources.size()) {
      throw unusable("the daemon");
    }
    for (std::size_t i = 0; i < stages_.size(); ++i) {
      if (!stages_[i]->restore(restored->stages[i])) throw unusable("stage " + std::to_string(i));
    }
    if (!publisher_->restore(restored->publisher)) throw unusable("the publisher");
  }

  // Sources last: a tcp source starts accepting as soon as it is built.
  for (std::size_t s = 0; s < config_.sources.size(); ++s) {
    std::vector<pipeline::Ring*> rings;
    for (int i = 0; i < n_stages; ++i) rings.push_back(source_rings_[s * n_stages + i].get());
    std::vector<pipeline::Doorbell*> bells;
    for (auto& stage : stages_) bells.push_back(&stage->doorbell());
    // The source and its router stop on one request: a router waiting for room behind a stage
    // that does not consume lets its event go, so that the source can end its stream and return.
    pipeline::EventRouter router(set.change.sources[s], std::move(rings), *source_stats_[s],
                                 std::move(bells), sources_stop_.get_token());
    router.joinCheckpoints(*checkpoints_, s);
    // A kafka source commits what durable checkpoints cover only when checkpoints are on.
    pipeline::CheckpointBoard* checkpoints =
        config_.daemon.checkpoint ? checkpoints_.get() : nullptr;
    const connectors::SourceContext context{s, commits_.get(), kafka_stats_[s].get(), checkpoints,
                                            source_stats_[s].get()};
    sources_.push_back(connectors::makeSource(config_.sources[s], std::move(router), context));
    if (restored != nullptr && !sources_.back()->restore(restored->sources[s])) {
      throw std::runtime_error("checkpoint: the position of source " + config_.sources[s].name +
                               " cannot be restored (corrupt, or from another version)");
    }
  }

  // The watchdog's view of every thread start() will run, in that order.
  const auto watch = [this](std::string name, bool source, std::function<std::int64_t()> beat) {
    workers_.push_back(std::make_unique<Worker>());
    workers_.back()->name = std::move(name);
    workers_.back()->source = source;
    workers_.back()->heartbeat = std::move(beat);
  };
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    const pipeline::Stage* stage = stages_[i].get();
    watch("stage " + std::to_string(i), false, [stage] { return stage->heartbeat(); });
  }
  watch("publisher", false, [this] { return publisher_->heartbeat(); });
  for (std::size_t s = 0; s < sources_.size(); ++s) {
    const pipeline::SourceStats* stats = source_stats_[s].get();
    watch("source " + config_.sources[s].name, true,
          [stats] { return stats->heartbeat.load(std::memory_order_relaxed); });
  }
}

std::shared_ptr<PipelineSet> Engine::buildSet(std::vector<config::PipelineConfig> configs,
                                              const PipelineSet* before) const {
  config::Config config = config_;
  config.pipelines = std::move(configs);
  auto set = std::make_shared<PipelineSet>();
  set->configs = config.pipelines;
  const std::size_t n = config.pipelines.size();
  const std::size_t n_sources = config.sources.size();
  set->aggregates.reserve(n);
  pipeline::Reconfiguration& change = set->change;
  change.stage_stats.resize(n_all_stages_);
  for (std::size_t p = 0; p < n; ++p) {
    set->plans.push_back(pipeline::compilePipeline(config, p, n_stages_));
    const pipeline::PipelinePlan& plan = set->plans.back();
    set->aggregates.emplace_back(plan.aggregates, plan.value_index);
    // A pipeline of the same name before: its counters go on (a changed one's too, so that a
    // reload is no counter reset); its state only if its definition is the same.
    int old = -1;
    for (std::size_t o = 0; before != nullptr && o < before->configs.size(); ++o) {
      if (before->configs[o].name == plan.name) old = static_cast<int>(o);
    }
    const auto o = static_cast<std::size_t>(old);
    change.previous.push_back(old >= 0 && before->configs[o] == config.pipelines[p] ? old : -1);
    set->publish_stats.push_back(old >= 0 ? before->publish_stats[o]
                                          : std::make_shared<pipeline::PipelinePublishStats>());
    change.publish_stats.push_back(set->publish_stats.back().get());
    for (std::size_t i = 0; i < n_all_stages_; ++i) {
      set->stage_stats.push_back(old >= 0 ? before->stage_stats[o * n_all_stages_ + i]
                                          : std::make_shared<pipeline::PipelineStageStats>());
      change.stage_stats[i].push_back(set->stage_stats.back().get());
    }
    for (std::size_t r = 0; r < n_routers_; ++r) {
      set->source_stats.push_back(old >= 0 ? before->source_stats[o * n_routers_ + r]
                                           : std::make_shared<pipeline::PipelineSourceStats>());
    }
  }
  change.plans = set->plans;
  change.aggregates = set->aggregates;
  // Router r's plan, with its counters and tables.
  const auto bound = [&](pipeline::SourcePlan plan, std::size_t r) {
    tables_->bind(plan, r);
    for (pipeline::SourcePlan::Route& route : plan.routes) {
      route.stats = set->source_stats[route.pipeline * n_routers_ + r].get();
    }
    return plan;
  };
  for (std::size_t s = 0; s < n_sources; ++s) {
    change.sources.push_back(bound(pipeline::planSource(config, s, set->plans), s));
  }
  // Each read pipeline's stream, as each stage of its tier feeds it on.
  const config::Config streams = config::withResultStreams(config);
  const std::vector<std::size_t> read = readPipelines(config);
  change.feeds.assign(n_all_stages_, std::vector<pipeline::SourcePlan>(n));
  for (std::size_t k = 0; k < read.size(); ++k) {
    const auto tier = static_cast<std::size_t>(set->plans[read[k]].tier);
    for (std::size_t from = 0; from < n_stages_; ++from) {
      change.feeds[tier * n_stages_ + from][read[k]] =
          bound(pipeline::planSource(streams, n_sources + k, set->plans),
                n_sources + k * n_stages_ + from);
    }
  }
  return set;
}

std::vector<std::size_t> Engine::readPipelines(const config::Config& config) {
  std::vector<std::size_t> read;
  for (std::size_t p = 0; p < config.pipelines.size(); ++p) {
    if (config::isRead(config, config.pipelines[p])) read.push_back(p);
  }
  return read;
}

std::string Engine::routerName(std::size_t r) const {
  const std::size_t n_sources = config_.sources.size();
  if (r < n_sources) return "source " + config_.sources[r].name;
  return "results of " + result_streams_[(r - n_sources) / n_stages_].name;
}

std::vector<std::string> Engine::restartNeeded(const config::Config& next) const {
  std::vector<std::string> out;
  const config::DaemonConfig& a = config_.daemon;
  const config::DaemonConfig& b = next.daemon;
  if (!(a.metrics == b.metrics) || a.metrics_socket != b.metrics_socket) {
    out.push_back("daemon.metrics");
  }
  if (a.publish != b.publish) out.push_back("daemon.publish");
  if (a.publish_hwm != b.publish_hwm) out.push_back("daemon.publish_hwm");
  // New client keys too: the allowed keys are loaded with the result socket.
  if (a.publish_curve != b.publish_curve) out.push_back("daemon.publish_curve");
  if (a.output != b.output) out.push_back("daemon.output");
  if (a.stages != b.stages) out.push_back("daemon.stages");
  if (a.cpus != b.cpus) out.push_back("daemon.cpus");
  if (a.checkpoint != b.checkpoint) out.push_back("daemon.checkpoint");
  if (a.idle_spin != b.idle_spin) out.push_back("daemon.idle_spin");
  if (config_.outputs != next.outputs) out.push_back("outputs");
  // A field added to the section and not named above still needs a restart.
  config::DaemonConfig b_with_a_level = b;
  b_with_a_level.log_level = a.log_level;
  if (out.empty() && !(a == b_with_a_level)) out.push_back("daemon");
  for (const config::SourceConfig& source : config_.sources) {
    const auto it = std::find_if(next.sources.begin(), next.sources.end(),
                                 [&](const auto& s) { return s.name == source.name; });
    if (it == next.sources.end()) {
      out.push_back("sources: " + source.name + " removed");
    } else if (!(*it == source)) {
      out.push_back("sources: " + source.name + " changed");
    }
  }
  for (const config::SourceConfig& source : next.sources) {
    if (std::none_of(config_.sources.begin(), config_.sources.end(),
                     [&](const auto& s) { return s.name == source.name; })) {
      out.push_back("sources: " + source.name + " added");
    }
  }
  // The same sources in another order: pipelines and positions refer to them by index.
  if (out.empty() && config_.sources != next.sources) out.push_back("sources: order changed");
  for (std::string& line : tables_->restartNeeded(next.tables)) out.push_back(std::move(line));
  // The pipelines other pipelines read have streams of results with rings and stages of their
  // own, which a reload does not rewire: they must stay as they are, in the same order. Their
  // readers, and every other pipeline, may change.
  const auto streams = [](const config::Config& c) {
    std::vector<config::PipelineConfig> read;
    for (const std::size_t p : readPipelines(c)) read.push_back(c.pipelines[p]);
    return read;
  };
  const std::vector<config::PipelineConfig> before = streams(config_), after = streams(next);
  if (before != after) {
    std::vector<std::string> names;
    for (const auto* list : {&before, &after}) {
      const auto* other = list == &before ? &after : &before;
      for (const config::PipelineConfig& p : *list) {
        if (std::find(other->begin(), other->end(), p) == other->end() &&
            std::find(names.begin(), names.end(), p.name) == names.end()) {
          names.push_back(p.name);
        }
      }
    }
    std::string text;
    for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
    out.push_back("pipelines: the pipelines others read change (" +
                  (text.empty() ? std::string("their order") : text) +
                  "): their streams of results have rings and stages of their own");
  }
  return out;
}

std::optional<ReloadPlan> Engine::beginReload(const config::Config& next) {
  if (!checkpoints_->idle()) return std::nullopt;
  std::shared_ptr<const PipelineSet> current = pipelineSet();
  std::shared_ptr<PipelineSet> set = buildSet(next.pipelines, current.get());
  ReloadPlan plan;
  for (std::size_t p = 0; p < set->configs.size(); ++p) {
    const std::string& name = set->configs[p].name;
    const bool existed = std::any_of(current->configs.begin(), current->configs.end(),
                                     [&](const auto& c) { return c.name == name; });
    (set->change.previous[p] >= 0 ? plan.kept
     : existed                    ? plan.changed
                                  : plan.added)
        .push_back(name);
  }
  for (const config::PipelineConfig& old : current->configs) {
    if (std::none_of(set->configs.begin(), set->configs.end(),
                     [&](const auto& c) { return c.name == old.name; })) {
      plan.removed.push_back(old.name);
    }
  }
  config_.pipelines = next.pipelines;
  config_.daemon.log_level = next.daemon.log_level;
  fingerprint_ = checkpointFingerprint(config_);
  retiring_ = std::move(current);  // the threads use it until they have switched
  reload_id_ = checkpoints_->nextId();
  checkpoints_->request(reload_id_, &set->change);
  std::lock_guard lock(set_mutex_);
  set_ = std::move(set);
  return plan;
}

bool Engine::reloadDone() {
  if (checkpoints_->completed() < reload_id_) return false;
  retiring_.reset();
  return true;
}

Engine::~Engine() {
  requestStop();
  join();
}

void Engine::runThread(Worker& worker, const std::string& thread_name, int cpu,
                       std::function<void()> body) {
  // Relaxed: starting the thread orders the count before the thread's own decrement.
  running_.fetch_add(1, std::memory_order_relaxed);
  threads_.emplace_back([this, &worker, thread_name, cpu, body = std::move(body)] {
    nameAndPin(thread_name, cpu);
    placed();
    body();
    // Relaxed: it only takes the thread out of the watchdog's view; nothing is read after it.
    worker.exited.store(true, std::memory_order_relaxed);
    running_.fetch_sub(1, std::memory_order_release);  // see finished()
  });
}

void Engine::start() {
  // Threads that have not beaten yet are as old as the start: a thread that never gets going is
  // reported once the watchdog's limit has passed.
  // Relaxed: a timestamp read on its own.
  started_at_.store(pipeline::steadyNanos(), std::memory_order_relaxed);
  std::size_t w = 0;
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    pipeline::Stage* stage = stages_[i].get();
    runThread(*workers_[w++], "rv-stage-" + std::to_string(i), stage_cpus_[i],
              [stage] { stage->run(); });
  }
  runThread(*workers_[w++], "rv-publisher", publisher_cpu_, [this] { publisher_->run(); });
  for (std::size_t s = 0; s < sources_.size(); ++s) {
    running_.fetch_add(1, std::memory_order_relaxed);  // as in runThread()
    connectors::Source* source = sources_[s].get();
    Worker* worker = workers_[w++].get();
    const int cpu = source_cpus_[s];
    source_threads_.emplace_back([this, source, worker, s, cpu] {
      nameAndPin("rv-source-" + std::to_string(s), cpu);
      placed();
      source->run(sources_stop_.get_token());
      worker->exited.store(true, std::memory_order_relaxed);
      running_.fetch_sub(1, std::memory_order_release);  // see finished()
    });
  }
  // Returning is what lets main.cc send READY=1 and log "running": by then every thread must
  // carry its name and its pin, which a supervisor or a test may read from /proc at once.
  const int threads = static_cast<int>(workers_.size());
  for (int n = placed_.load(std::memory_order_acquire); n < threads;
       n = placed_.load(std::memory_order_acquire)) {
    placed_.wait(n, std::memory_order_acquire);
  }
}

void Engine::placed() {
  // Release, pairing with start()'s acquire: the name and pin come before the count.
  placed_.fetch_add(1, std::memory_order_release);
  placed_.notify_all();
}

void Engine::requestStop() { sources_stop_.request_stop(); }

// Acquire, pairing with each thread's release as it returns: a caller that sees 0 sees all the
// threads did (their last counts) even before it joins them.
bool Engine::finished() const { return running_.load(std::memory_order_acquire) == 0; }

std::vector<ThreadHeartbeat> Engine::heartbeats(std::int64_t now) const {
  std::vector<ThreadHeartbeat> beats;
  const std::int64_t started = started_at_.load(std::memory_order_relaxed);
  if (started == 0) return beats;
  for (const auto& worker : workers_) {
    if (worker->exited.load(std::memory_order_relaxed)) continue;
    beats.push_back({worker->name, now - std::max(worker->heartbeat(), started)});
  }
  return beats;
}

std::vector<std::string> Engine::stalledThreads(std::int64_t now, std::int64_t limit) const {
  std::vector<std::string> stalled;
  for (ThreadHeartbeat& beat : heartbeats(now)) {
    if (beat.age > limit) stalled.push_back(std::move(beat.name));
  }
  return stalled;
}

bool Engine::sourcesEnded() const {
  return std::all_of(workers_.begin(), workers_.end(), [](const auto& worker) {
    return !worker->source || worker->exited.load(std::memory_order_relaxed);
  });
}

void Engine::join() {
  for (std::jthread& t : source_threads_)
    if (t.joinable()) t.join();
  for (std::jthread& t : threads_)
    if (t.joinable()) t.join();
}

}  // namespace rivulet::daemon
