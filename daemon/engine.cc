#include "daemon/engine.h"

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>

#include <algorithm>
#include <functional>
#include <stdexcept>

#include "connectors/file_output.h"
#include "daemon/log.h"
#include "pipeline/hash.h"

namespace rivulet::daemon {
namespace {

// 4 MiB per ring: ~130,000 short events, at ~30 ns per event ~4 ms of a stage's work, enough to
// ride out a scheduling hiccup without back-pressuring the source.
constexpr std::size_t kSourceRingCells = (4 << 20) / sizeof(pipeline::Cell);
constexpr std::size_t kResultRingCells = (4 << 20) / sizeof(pipeline::Cell);

int cores() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

void nameAndPin(const char* name, int cpu) {
  pthread_setname_np(pthread_self(), name);
  // The kernel's default 50 us timer slack would turn a backoff's 1 us sleep into 50-60 us.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
    logWarn(std::string(name) + ": cannot pin to cpu " + std::to_string(cpu));
  }
}

}  // namespace

int resolvedStages(const config::Config& config) {
  return config.daemon.stages > 0 ? config.daemon.stages : std::max(1, cores() - 1);
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
  }
  return pipeline::hashKey(text);
}

Engine::Engine(const config::Config& config, const CheckpointData* restored)
    : config_(config), context_(1) {
  const int n_cores = cores();
  const int n_stages = resolvedStages(config_);

  // Pinning: explicit cpus win; by default stages take the last cores one each and everything
  // else floats on what is left (on one core nothing is pinned).
  if (config_.daemon.cpus) {
    const config::CpuPlan& cpus = *config_.daemon.cpus;
    for (int i = 0; i < n_stages; ++i)
      stage_cpus_.push_back(cpus.stages.empty() ? -1 : cpus.stages[i % cpus.stages.size()]);
    for (std::size_t i = 0; i < config_.sources.size(); ++i)
      source_cpus_.push_back(cpus.sources.empty() ? -1 : cpus.sources[i % cpus.sources.size()]);
    publisher_cpu_ = cpus.publisher.value_or(-1);
  } else {
    for (int i = 0; i < n_stages; ++i)
      stage_cpus_.push_back(n_cores > 1 ? n_cores - 1 - i % (n_cores - 1) : -1);
    source_cpus_.assign(config_.sources.size(), -1);
  }

  for (std::size_t p = 0; p < config_.pipelines.size(); ++p) {
    plans_.push_back(pipeline::compilePipeline(config_, p, static_cast<std::size_t>(n_stages)));
  }
  for (const pipeline::PipelinePlan& plan : plans_) {
    aggregates_.emplace_back(plan.aggregates, plan.value_index);
    published_.push_back(std::make_unique<pipeline::Counter>(0));
    for (int s = 0; s < n_stages; ++s)
      stage_stats_.push_back(std::make_unique<pipeline::PipelineStageStats>());
  }

  for (std::size_t s = 0; s < config_.sources.size(); ++s) {
    source_stats_.push_back(std::make_unique<pipeline::SourceStats>());
    kafka_stats_.push_back(config_.sources[s].kind == config::SourceKind::kKafka
                               ? std::make_unique<connectors::KafkaStats>()
                               : nullptr);
    for (int i = 0; i < n_stages; ++i)
      source_rings_.push_back(std::make_unique<pipeline::Ring>(kSourceRingCells));
  }
  for (int i = 0; i < n_stages; ++i)
    result_rings_.push_back(std::make_unique<pipeline::Ring>(kResultRingCells));

  zmq_ =
      std::make_unique<connectors::ZmqOutput>(context_, config_.daemon.publish, publisher_stats_);
  std::vector<pipeline::ResultOutput*> outputs{zmq_.get()};
  if (!config_.daemon.output.empty()) {
    outputs_.push_back(std::make_unique<connectors::FileOutput>(config_.daemon.output));
    outputs.push_back(outputs_.back().get());
  }
  std::vector<pipeline::Ring*> results;
  for (auto& r : result_rings_) results.push_back(r.get());
  std::vector<pipeline::Counter*> published;
  for (auto& c : published_) published.push_back(c.get());
  commits_ = std::make_unique<pipeline::CommitBoard>(config_.sources.size(),
                                                     static_cast<std::size_t>(n_stages));
  publisher_ =
      std::make_unique<pipeline::Publisher>(plans_, std::move(results), std::move(outputs),
                                            publisher_stats_, std::move(published), commits_.get());

  for (int i = 0; i < n_stages; ++i) {
    std::vector<pipeline::Ring*> inputs;
    for (std::size_t s = 0; s < config_.sources.size(); ++s)
      inputs.push_back(source_rings_[s * n_stages + i].get());
    std::vector<pipeline::PipelineStageStats*> stats;
    for (std::size_t p = 0; p < plans_.size(); ++p)
      stats.push_back(stage_stats_[p * n_stages + i].get());
    stages_.push_back(std::make_unique<pipeline::Stage>(plans_, aggregates_, std::move(inputs),
                                                        *result_rings_[i], std::move(stats),
                                                        &publisher_->doorbell()));
  }

  fingerprint_ = checkpointFingerprint(config_);
  if (config_.daemon.checkpoint) {
    checkpoints_ = std::make_unique<pipeline::CheckpointBoard>(config_.sources.size(),
                                                               static_cast<std::size_t>(n_stages));
    publisher_->joinCheckpoints(*checkpoints_);
    for (std::size_t i = 0; i < stages_.size(); ++i) stages_[i]->joinCheckpoints(*checkpoints_, i);
  }
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
    pipeline::EventRouter router(pipeline::planSource(config_, s, plans_), std::move(rings),
                                 *source_stats_[s], std::move(bells));
    if (checkpoints_) router.joinCheckpoints(*checkpoints_, s);
    const connectors::SourceContext context{s, commits_.get(), kafka_stats_[s].get()};
    sources_.push_back(connectors::makeSource(config_.sources[s], std::move(router), context));
    if (restored != nullptr && !sources_.back()->restore(restored->sources[s])) {
      throw std::runtime_error("checkpoint: the position of source " + config_.sources[s].name +
                               " cannot be restored (corrupt, or from another version)");
    }
  }
}

Engine::~Engine() {
  requestStop();
  join();
}

void Engine::runThread(const char* name, int cpu, std::function<void()> body) {
  ++running_;
  threads_.emplace_back([this, name, cpu, body = std::move(body)] {
    nameAndPin(name, cpu);
    body();
    --running_;
  });
}

void Engine::start() {
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    pipeline::Stage* stage = stages_[i].get();
    runThread("rv-stage", stage_cpus_[i], [stage] { stage->run(); });
  }
  runThread("rv-publisher", publisher_cpu_, [this] { publisher_->run(); });
  for (std::size_t s = 0; s < sources_.size(); ++s) {
    ++running_;
    connectors::Source* source = sources_[s].get();
    const int cpu = source_cpus_[s];
    source_threads_.emplace_back([this, source, cpu](std::stop_token stop) {
      nameAndPin("rv-source", cpu);
      source->run(stop);
      --running_;
    });
  }
}

void Engine::requestStop() {
  for (std::jthread& t : source_threads_) t.request_stop();
}

bool Engine::finished() const { return running_.load() == 0; }

void Engine::join() {
  for (std::jthread& t : source_threads_)
    if (t.joinable()) t.join();
  for (std::jthread& t : threads_)
    if (t.joinable()) t.join();
}

}  // namespace rivulet::daemon
