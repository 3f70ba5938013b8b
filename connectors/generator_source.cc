#include "connectors/generator_source.h"

#include <time.h>

#include <algorithm>
#include <charconv>
#include <vector>

#include "pipeline/clock.h"

namespace rivulet::connectors {
namespace {

using pipeline::FieldType;
using pipeline::FieldValue;

constexpr std::uint64_t kGamma = 0x9e3779b97f4a7c15ULL;  // SplitMix64's increment

std::uint64_t mix(std::uint64_t x) noexcept {  // SplitMix64's output function
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

enum class Field { kTs, kKey, kValue, kOther };  // the first three index `at` in run()

Field fieldOf(const std::string& name) {
  if (name == "ts") return Field::kTs;
  if (name == "key") return Field::kKey;
  if (name == "value") return Field::kValue;
  return Field::kOther;  // config validation rules this out
}

// Events between clock reads, watermarks and (when throttled) sleeps.
constexpr std::uint64_t kBatch = 1024;

// Keys up to this count have their texts formatted once, at start (16 bytes each).
constexpr std::int64_t kKeyTextTable = 1 << 16;
constexpr std::size_t kKeyTextStride = 16;

// Event i without its time: key and value depend on (seed, i) only. They are outputs 2i and 2i+1
// of a SplitMix64 stream whose start is set by the seed (times an odd constant, so that nearby
// seeds do not give shifted copies of one stream): two output functions per event, no state.
GeneratedEvent keyAndValue(const config::GeneratorSpec& spec, std::uint64_t i) noexcept {
  const std::uint64_t state = spec.seed * 0xd1b54a32d192ed03ULL + 2 * i * kGamma;
  const std::uint64_t a = mix(state + kGamma);
  const std::uint64_t b = mix(state + 2 * kGamma);
  __extension__ using U128 = unsigned __int128;  // the 64x64->128 multiply of Lemire's range
  const auto keys = static_cast<U128>(spec.keys);
  return GeneratedEvent{0, static_cast<std::uint64_t>((a * keys) >> 64),
                        static_cast<double>(b >> 11) * 0x1.0p-53};
}

// floor(i * 1000 / events_per_second), advanced one event at a time without a division: the
// generator's clock. A 64-bit division per event costs more than the rest of the event.
class EventClock {
 public:
  explicit EventClock(std::int64_t events_per_second)
      : eps_(static_cast<std::uint64_t>(events_per_second)),
        step_ms_(1000 / eps_),
        step_rest_(1000 % eps_) {}
  std::uint64_t millis() const noexcept { return millis_; }
  void next() noexcept {
    millis_ += step_ms_;
    rest_ += step_rest_;
    if (rest_ >= eps_) {
      rest_ -= eps_;
      ++millis_;
    }
  }

 private:
  const std::uint64_t eps_, step_ms_, step_rest_;
  std::uint64_t millis_ = 0, rest_ = 0;
};

}  // namespace

GeneratedEvent generateEvent(const config::GeneratorSpec& spec, std::int64_t start_ms,
                             std::uint64_t i) noexcept {
  GeneratedEvent e = keyAndValue(spec, i);
  e.ts_ms = start_ms + static_cast<std::int64_t>(
                           i * 1000 / static_cast<std::uint64_t>(spec.events_per_second));
  return e;
}

GeneratorSource::GeneratorSource(const config::GeneratorSpec& spec, pipeline::EventRouter router)
    : spec_(spec),
      router_(std::move(router)),
      start_ms_(spec.start_ms ? *spec.start_ms : pipeline::wallNanos() / 1'000'000) {}

void GeneratorSource::run(std::stop_token stop) {
  // Where each generated field goes in the plan's field order (-1: no pipeline reads it), and
  // whether a pipeline groups by it: text forms are only made for key fields, since formatting a
  // double costs more than everything else an event does.
  const std::vector<std::string>& names = router_.plan().fields;
  int at[3] = {-1, -1, -1};  // ts, key, value
  std::vector<char> as_key(names.size(), 0);
  for (const auto& route : router_.plan().routes)
    for (int k : route.key_fields) as_key[static_cast<std::size_t>(k)] = 1;
  for (std::size_t f = 0; f < names.size(); ++f) {
    const Field field = fieldOf(names[f]);
    if (field != Field::kOther) at[static_cast<int>(field)] = static_cast<int>(f);
  }
  std::vector<char> key_texts;  // "k<i>" for the first kKeyTextTable keys, kKeyTextStride apart
  std::vector<std::uint8_t> key_sizes;
  for (std::int64_t k = 0; k < std::min(spec_.keys, kKeyTextTable); ++k) {
    char text[kKeyTextStride] = {'k'};
    const char* end = std::to_chars(text + 1, text + sizeof text, k).ptr;
    key_texts.insert(key_texts.end(), text, text + kKeyTextStride);
    key_sizes.push_back(static_cast<std::uint8_t>(end - text));
  }
  // Fields no generated field fills stay missing (config validation rules them out); the types
  // of the others never change, so only their values are written per event.
  std::vector<FieldValue> values(names.size());
  FieldValue scratch;  // where an unread field's value goes
  FieldValue& ts = at[0] >= 0 ? values[static_cast<std::size_t>(at[0])] : scratch;
  FieldValue& key = at[1] >= 0 ? values[static_cast<std::size_t>(at[1])] : scratch;
  FieldValue& value = at[2] >= 0 ? values[static_cast<std::size_t>(at[2])] : scratch;
  ts.type = FieldType::kNumber;
  ts.is_integer = true;
  key.type = FieldType::kString;
  value.type = FieldType::kNumber;
  const bool ts_as_key = at[0] >= 0 && as_key[static_cast<std::size_t>(at[0])];
  const bool value_as_key = at[2] >= 0 && as_key[static_cast<std::size_t>(at[2])];
  char ts_text[24];
  char key_text[24] = {'k'};
  char value_text[32];

  const std::uint64_t count = spec_.count > 0 ? static_cast<std::uint64_t>(spec_.count) : ~0ULL;
  const std::int64_t began = pipeline::steadyNanos();
  const std::uint64_t batch =
      spec_.throttle > 0
          ? std::clamp<std::uint64_t>(static_cast<std::uint64_t>(spec_.throttle) / 100, 1, kBatch)
          : kBatch;
  std::uint64_t i = 0;
  EventClock clock(spec_.events_per_second);
  while (i < count && !stop.stop_requested()) {
    const std::int64_t now = pipeline::wallNanos();
    const std::uint64_t batch_end = std::min(count, i + batch);
    for (; i < batch_end; ++i, clock.next()) {
      GeneratedEvent e = keyAndValue(spec_, i);
      e.ts_ms = start_ms_ + static_cast<std::int64_t>(clock.millis());
      ts.integer = e.ts_ms;
      ts.number = static_cast<double>(e.ts_ms);
      if (ts_as_key)
        ts.text = {ts_text, std::to_chars(ts_text, ts_text + sizeof ts_text, e.ts_ms).ptr};
      if (e.key < key_sizes.size()) {
        key.text = {&key_texts[e.key * kKeyTextStride], key_sizes[e.key]};
      } else {
        key.text = {key_text, std::to_chars(key_text + 1, key_text + sizeof key_text, e.key).ptr};
      }
      value.number = e.value;
      if (value_as_key)
        value.text = {value_text,
                      std::to_chars(value_text, value_text + sizeof value_text, e.value).ptr};
      router_.route(values.data(), now);
    }
    router_.flush(now, pipeline::steadyNanos());
    if (spec_.throttle > 0) {
      // Sleep until the wall clock catches up with the event count; no spinning.
      const std::int64_t due =
          began + static_cast<std::int64_t>(i * 1'000'000'000ULL /
                                            static_cast<std::uint64_t>(spec_.throttle));
      for (std::int64_t ahead = due - pipeline::steadyNanos(); ahead > 0 && !stop.stop_requested();
           ahead = due - pipeline::steadyNanos()) {
        const std::int64_t nap = std::min<std::int64_t>(ahead, 50'000'000);
        const timespec ts{0, static_cast<long>(nap)};
        nanosleep(&ts, nullptr);
        router_.flush(pipeline::wallNanos(), pipeline::steadyNanos());
      }
    }
  }
  router_.end(stop.stop_requested() && i < count);
}

}  // namespace rivulet::connectors
