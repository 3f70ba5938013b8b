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

std::uint64_t mix(std::uint64_t x) noexcept {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

enum class Field { kTs, kKey, kValue, kOther };

Field fieldOf(const std::string& name) {
  if (name == "ts") return Field::kTs;
  if (name == "key") return Field::kKey;
  if (name == "value") return Field::kValue;
  return Field::kOther;  // config validation rules this out
}

// Events between clock reads, watermarks and (when throttled) sleeps.
constexpr std::uint64_t kBatch = 1024;

}  // namespace

GeneratedEvent generateEvent(const config::GeneratorSpec& spec, std::int64_t start_ms,
                             std::uint64_t i) noexcept {
  const std::uint64_t a = mix(spec.seed ^ mix(2 * i));
  const std::uint64_t b = mix(spec.seed ^ mix(2 * i + 1));
  __extension__ using U128 = unsigned __int128;  // the 64x64->128 multiply of Lemire's range
  const auto keys = static_cast<U128>(spec.keys);
  return GeneratedEvent{
      start_ms +
          static_cast<std::int64_t>(i * 1000 / static_cast<std::uint64_t>(spec.events_per_second)),
      static_cast<std::uint64_t>((a * keys) >> 64),
      static_cast<double>(b >> 11) * 0x1.0p-53,
  };
}

GeneratorSource::GeneratorSource(const config::GeneratorSpec& spec, pipeline::EventRouter router)
    : spec_(spec),
      router_(std::move(router)),
      start_ms_(spec.start_ms ? *spec.start_ms : pipeline::wallNanos() / 1'000'000) {}

void GeneratorSource::run(std::stop_token stop) {
  const std::vector<std::string>& names = router_.plan().fields;
  std::vector<Field> fields;
  for (const std::string& name : names) fields.push_back(fieldOf(name));
  // Text forms are only needed for fields used as keys; formatting a double costs more than
  // everything else an event does.
  std::vector<bool> as_key(fields.size(), false);
  for (const auto& route : router_.plan().routes)
    for (int k : route.key_fields) as_key[static_cast<std::size_t>(k)] = true;
  std::vector<FieldValue> values(fields.size());
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
  while (i < count && !stop.stop_requested()) {
    const std::int64_t now = pipeline::wallNanos();
    const std::uint64_t batch_end = std::min(count, i + batch);
    for (; i < batch_end; ++i) {
      const GeneratedEvent e = generateEvent(spec_, start_ms_, i);
      for (std::size_t f = 0; f < fields.size(); ++f) {
        FieldValue& v = values[f];
        v.type = FieldType::kNumber;
        switch (fields[f]) {
          case Field::kTs:
            v.is_integer = true;
            v.integer = e.ts_ms;
            v.number = static_cast<double>(e.ts_ms);
            if (as_key[f])
              v.text = {ts_text, std::to_chars(ts_text, ts_text + sizeof ts_text, e.ts_ms).ptr};
            break;
          case Field::kKey:
            v.type = FieldType::kString;
            v.text = {key_text, std::to_chars(key_text + 1, key_text + sizeof key_text, e.key).ptr};
            break;
          case Field::kValue:
            v.is_integer = false;
            v.number = e.value;
            if (as_key[f])
              v.text = {value_text,
                        std::to_chars(value_text, value_text + sizeof value_text, e.value).ptr};
            break;
          case Field::kOther:
            v.type = FieldType::kMissing;
            break;
        }
      }
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
