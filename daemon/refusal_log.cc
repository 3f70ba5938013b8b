#include "daemon/refusal_log.h"

#include <cstdio>

#include "daemon/engine.h"
#include "daemon/log.h"

namespace rivulet::daemon {

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    }
  }
  return out;
}

std::vector<RefusalSlot> refusalSlots(Engine& engine, const PipelineSet& set) {
  const config::Config& config = engine.config();
  const std::size_t sources = config.sources.size();
  std::vector<RefusalSlot> slots;
  for (std::size_t s = 0; s < sources; ++s) {
    pipeline::SourceStats& stats = engine.sourceStats(s);
    for (std::size_t r = 1; r < stats.errors.size(); ++r) {
      slots.push_back(RefusalSlot{"source " + config.sources[s].name, "",
                                  static_cast<pipeline::ErrorReason>(r), &stats.errors[r],
                                  &stats.error_samples[r]});
    }
  }
  const std::size_t routers = engine.routerCount();
  for (std::size_t p = 0; p < set.plans.size(); ++p) {
    for (std::size_t router = 0; router < routers; ++router) {
      pipeline::PipelineSourceStats& stats = *set.source_stats[p * routers + router];
      for (const pipeline::ErrorReason reason : pipeline::kPipelineReasons) {
        const auto r = static_cast<std::size_t>(reason);
        slots.push_back(RefusalSlot{
            "pipeline " + set.plans[p].name + " (" + engine.routerName(router) + ")",
            "the source's other pipelines took it", reason, &stats.refused[r], &stats.samples[r]});
      }
    }
  }
  return slots;
}

RefusalLog::RefusalLog(Write write, std::int64_t interval)
    : write_(std::move(write)), interval_(interval) {}

void RefusalLog::tick(std::span<const RefusalSlot> slots, std::int64_t now) {
  for (const RefusalSlot& slot : slots) {
    if (!slot.sample->waiting()) continue;
    const std::string_view reason = pipeline::reasonName(slot.reason);
    Seen& seen = seen_[slot.who + '\0' + std::string(reason)];
    if (seen.logged && now - seen.logged_at < interval_) continue;  // the sample waits its turn
    // Read after waiting(): the count includes the sampled event.
    const std::uint64_t count = slot.count->load(std::memory_order_relaxed);
    const std::uint64_t since = count > seen.counted ? count - seen.counted : 1;
    std::string line = slot.who + ": refused an event (" + std::string(reason);
    if (!slot.whose.empty()) line += "; " + slot.whose;
    if (since > 1) {
      line += "; " + std::to_string(since - 1) + " more not shown";
      if (seen.logged) line += " since the last warning";
    }
    const std::string sample = slot.sample->take();
    line += sample.empty() ? "); it has no text" : "): " + printable(sample);
    write_(line);
    seen = Seen{now, count, true};
  }
}

EngineRefusalLog::EngineRefusalLog(Engine& engine)
    : engine_(engine), log_([](std::string_view line) { logWarn(line); }) {}

void EngineRefusalLog::tick(std::int64_t now) {
  std::shared_ptr<const PipelineSet> set = engine_.pipelineSet();
  if (set != set_) {
    slots_ = refusalSlots(engine_, *set);
    set_ = std::move(set);
  }
  log_.tick(slots_, now);
}

}  // namespace rivulet::daemon
