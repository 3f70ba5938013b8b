#include "connectors/sources/generator_source.h"

#include <time.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>
#include <vector>

#include "pipeline/model/number_text.h"
#include "pipeline/model/snapshot.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::connectors {
namespace {

using config::FieldType;
using config::FieldValue;

constexpr std::uint64_t kGamma = 0x9e3779b97f4a7c15ULL;  // SplitMix64's increment

std::uint64_t mix(std::uint64_t x) noexcept {  // SplitMix64's output function
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
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
  // The clock after `n` events: floor(n * 1000 / eps) ms, the rest carried.
  void seek(std::uint64_t n) noexcept {
    millis_ = n * 1000 / eps_;
    rest_ = n * 1000 % eps_;
  }
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

// A field of the plan's field list that a generator fills, or a scratch value when no pipeline
// reads it. Its type is set once (integers are numbers with is_integer), so an event writes only
// its value. Text forms are only made for key fields, since formatting a number costs more than
// everything else an event does.
class Slot {
 public:
  Slot(std::vector<config::FieldValue>& values, const pipeline::SourcePlan& plan,
       std::string_view name, config::FieldType type, bool integer = false)
      : type_(type) {
    const auto it = std::find(plan.fields.begin(), plan.fields.end(), name);
    if (it != plan.fields.end()) {
      const auto index = static_cast<int>(it - plan.fields.begin());
      value_ = &values[static_cast<std::size_t>(index)];
      for (const auto& route : plan.routes) {
        for (int k : route.key_fields) as_key_ |= k == index;
      }
    }
    value_->type = type;
    value_->is_integer = integer;
  }
  Slot(const Slot&) = delete;  // value_ may point into the object
  Slot& operator=(const Slot&) = delete;

  config::FieldValue& value() noexcept { return *value_; }
  // Whether a pipeline reads the field.
  bool read() const noexcept { return value_ != &scratch_; }
  void setInteger(std::int64_t v) noexcept {
    value_->integer = v;
    value_->number = static_cast<double>(v);
    if (as_key_) value_->text = {text_, std::to_chars(text_, text_ + sizeof text_, v).ptr};
  }
  void setNumber(double v) noexcept {
    value_->number = v;
    if (as_key_) value_->text = pipeline::numberText(v, text_);
  }
  // A null, until restore() gives the field its type back.
  void setNull() noexcept { value_->type = config::FieldType::kNull; }
  void restore() noexcept { value_->type = type_; }

 private:
  const config::FieldType type_;
  config::FieldValue scratch_;
  config::FieldValue* value_ = &scratch_;
  bool as_key_ = false;
  char text_[pipeline::kMaxNumberText];
};

// The `keys` profile: {ts, key, value}.
class KeyEvents {
 public:
  KeyEvents(const config::GeneratorSpec& spec, const pipeline::SourcePlan& plan)
      : spec_(spec),
        values_(plan.fields.size()),
        ts_(values_, plan, "ts", config::FieldType::kNumber, /*integer=*/true),
        key_(values_, plan, "key", config::FieldType::kString),
        value_(values_, plan, "value", config::FieldType::kNumber) {
    for (std::int64_t k = 0; k < std::min(spec.keys, kKeyTextTable); ++k) {
      char text[kKeyTextStride] = {'k'};
      const char* end = std::to_chars(text + 1, text + sizeof text, k).ptr;
      key_texts_.insert(key_texts_.end(), text, text + kKeyTextStride);
      key_sizes_.push_back(static_cast<std::uint8_t>(end - text));
    }
  }

  // Fields no generated field fills stay missing (config validation rules them out); the types
  // of the others never change, so only their values are written per event.
  const config::FieldValue* make(std::uint64_t i, std::int64_t ts_ms) noexcept {
    const GeneratedEvent e = keyAndValue(spec_, i);
    ts_.setInteger(ts_ms);
    config::FieldValue& key = key_.value();
    if (e.key < key_sizes_.size()) {
      key.text = {&key_texts_[e.key * kKeyTextStride], key_sizes_[e.key]};
    } else {
      key.text = {key_text_, std::to_chars(key_text_ + 1, key_text_ + sizeof key_text_, e.key).ptr};
    }
    value_.setNumber(e.value);
    return values_.data();
  }

 private:
  const config::GeneratorSpec& spec_;
  std::vector<config::FieldValue> values_;
  Slot ts_, key_, value_;
  std::vector<char> key_texts_;  // "k<i>" for the first kKeyTextTable keys, kKeyTextStride apart
  std::vector<std::uint8_t> key_sizes_;
  char key_text_[24] = {'k'};
};

// Which bid fields nexmarkFields() computes: drawing a price alone costs an exp().
struct BidFields {
  bool auction = true, bidder = true, price = true;
};

// The `nexmark` profile (see NexmarkEvent): the event's fields without its time; bid fields not
// in `wanted` are left 0. Each field has its own random draws, so leaving one out changes no
// other.
NexmarkEvent nexmarkFields(const config::GeneratorSpec& spec, std::uint64_t i,
                           BidFields wanted = {}) noexcept {
  constexpr std::uint64_t kEpoch = 50;  // events per person/auction/bid cycle
  constexpr std::uint64_t kPersons = 1, kAuctions = 3;
  constexpr std::int64_t kFirstId = 1000;
  constexpr std::uint64_t kHot = 100;
  constexpr std::uint64_t kInFlightAuctions = 100, kAuctionLead = 10;
  constexpr std::uint64_t kActivePersons = 1000, kPersonLead = 10;
  constexpr double kLn1e6 = 13.815510557964274;  // 10^(6u) = e^(u ln 10^6): exp is cheaper than pow
  // Uniform in [0, n), by Lemire's multiply-shift.
  const auto below = [](std::uint64_t random, std::uint64_t n) {
    __extension__ using U128 = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<U128>(random) * n) >> 64);
  };

  const std::uint64_t epoch = i / kEpoch;
  const std::uint64_t offset = i % kEpoch;
  if (offset < kPersons) return NexmarkEvent{NexmarkEvent::kPerson};
  if (offset < kPersons + kAuctions) return NexmarkEvent{NexmarkEvent::kAuction};
  // Ids so far, from 0: a bid comes after its cycle's person and auctions.
  const std::uint64_t last_person = epoch * kPersons + kPersons - 1;
  const std::uint64_t last_auction = epoch * kAuctions + kAuctions - 1;
  const std::uint64_t state = spec.seed * 0xd1b54a32d192ed03ULL + 8 * i * kGamma;
  NexmarkEvent bid{NexmarkEvent::kBid};
  if (wanted.auction) {
    std::uint64_t auction;
    if (mix(state + kGamma) & 1) {
      auction = last_auction / kHot * kHot;
    } else {
      const std::uint64_t lowest =
          last_auction > kInFlightAuctions ? last_auction - kInFlightAuctions : 0;
      auction = lowest + below(mix(state + 2 * kGamma), last_auction - lowest + 1 + kAuctionLead);
    }
    bid.auction = kFirstId + static_cast<std::int64_t>(auction);
  }
  if (wanted.bidder) {
    std::uint64_t bidder;
    if ((mix(state + 3 * kGamma) & 3) != 0) {
      bidder = last_person / kHot * kHot + 1;
    } else {
      const std::uint64_t persons = last_person + 1;
      const std::uint64_t active = std::min(persons, kActivePersons);
      bidder = persons - active + below(mix(state + 4 * kGamma), active + kPersonLead);
    }
    bid.bidder = kFirstId + static_cast<std::int64_t>(bidder);
  }
  if (wanted.price) {
    const double unit = static_cast<double>(mix(state + 5 * kGamma) >> 11) * 0x1.0p-53;
    bid.price = std::llround(std::exp(unit * kLn1e6) * 100.0);
  }
  return bid;
}

class NexmarkEvents {
 public:
  NexmarkEvents(const config::GeneratorSpec& spec, const pipeline::SourcePlan& plan)
      : spec_(spec),
        values_(plan.fields.size()),
        type_(values_, plan, "event_type", config::FieldType::kNumber, /*integer=*/true),
        time_(values_, plan, "dateTime", config::FieldType::kNumber, /*integer=*/true),
        auction_(values_, plan, "auction", config::FieldType::kNumber, /*integer=*/true),
        bidder_(values_, plan, "bidder", config::FieldType::kNumber, /*integer=*/true),
        price_(values_, plan, "price", config::FieldType::kNumber, /*integer=*/true),
        wanted_{auction_.read(), bidder_.read(), price_.read()} {}

  const config::FieldValue* make(std::uint64_t i, std::int64_t ts_ms) noexcept {
    const NexmarkEvent e = nexmarkFields(spec_, i, wanted_);
    time_.setInteger(ts_ms);
    type_.setInteger(e.type);
    if (e.type == NexmarkEvent::kBid) {
      auction_.restore();
      bidder_.restore();
      price_.restore();
      auction_.setInteger(e.auction);
      bidder_.setInteger(e.bidder);
      price_.setInteger(e.price);
    } else {
      auction_.setNull();
      bidder_.setNull();
      price_.setNull();
    }
    return values_.data();
  }

 private:
  const config::GeneratorSpec& spec_;
  std::vector<config::FieldValue> values_;
  Slot type_, time_, auction_, bidder_, price_;
  const BidFields wanted_;
};

// The generator loop, for one profile's events.
// Routes events `next` (from where a checkpoint left off, else 0) to count; `next` says how far
// it got at each flush (the source's checkpoint position).
template <typename Events>
void generate(const config::GeneratorSpec& spec, std::int64_t start_ms,
              pipeline::EventRouter& router, std::uint64_t& next, std::stop_token stop) {
  // Made again from the router's plan when a live reload changes it (at a flush).
  std::optional<Events> events;
  events.emplace(spec, router.plan());
  std::uint64_t generation = router.generation();
  const auto flush = [&](std::int64_t now) {
    router.flush(now, pipeline::steadyNanos());
    if (router.generation() != generation) [[unlikely]] {
      events.emplace(spec, router.plan());
      generation = router.generation();
    }
  };
  const std::uint64_t count = spec.count > 0 ? static_cast<std::uint64_t>(spec.count) : ~0ULL;
  const std::int64_t began = pipeline::steadyNanos();
  const std::uint64_t batch =
      spec.throttle > 0
          ? std::clamp<std::uint64_t>(static_cast<std::uint64_t>(spec.throttle) / 100, 1, kBatch)
          : kBatch;
  const std::uint64_t first = next;
  std::uint64_t i = first;
  EventClock clock(spec.events_per_second);
  clock.seek(i);
  while (i < count && !stop.stop_requested()) {
    const std::int64_t now = pipeline::wallNanos();
    const std::uint64_t batch_end = std::min(count, i + batch);
    for (; i < batch_end; ++i, clock.next()) {
      router.route(events->make(i, start_ms + static_cast<std::int64_t>(clock.millis())), now);
    }
    next = i;
    flush(now);
    if (spec.throttle > 0) {
      // Sleep until the wall clock catches up with the event count; no spinning.
      const std::int64_t due =
          began + static_cast<std::int64_t>((i - first) * 1'000'000'000ULL /
                                            static_cast<std::uint64_t>(spec.throttle));
      for (std::int64_t ahead = due - pipeline::steadyNanos(); ahead > 0 && !stop.stop_requested();
           ahead = due - pipeline::steadyNanos()) {
        const std::int64_t nap = std::min<std::int64_t>(ahead, 50'000'000);
        const timespec ts{0, static_cast<long>(nap)};
        nanosleep(&ts, nullptr);
        flush(pipeline::wallNanos());
      }
    }
  }
  router.end(stop.stop_requested() && i < count);
}

}  // namespace

GeneratedEvent generateEvent(const config::GeneratorSpec& spec, std::int64_t start_ms,
                             std::uint64_t i) noexcept {
  GeneratedEvent e = keyAndValue(spec, i);
  e.ts_ms = start_ms + static_cast<std::int64_t>(
                           i * 1000 / static_cast<std::uint64_t>(spec.events_per_second));
  return e;
}

NexmarkEvent nexmarkEvent(const config::GeneratorSpec& spec, std::int64_t start_ms,
                          std::uint64_t i) noexcept {
  NexmarkEvent e = nexmarkFields(spec, i);
  e.ts_ms = start_ms + static_cast<std::int64_t>(
                           i * 1000 / static_cast<std::uint64_t>(spec.events_per_second));
  return e;
}

GeneratorSource::GeneratorSource(const config::GeneratorSpec& spec, pipeline::EventRouter router)
    : spec_(spec),
      router_(std::move(router)),
      start_ms_(spec.start_ms ? *spec.start_ms : pipeline::wallNanos() / 1'000'000) {
  // The position: [start_ms:i64][next event:u64] — the start too, which is the wall clock at
  // the first start unless configured, so that a resumed run goes on with the same times.
  router_.setPosition([this] {
    pipeline::SnapshotWriter out;
    out.put(start_ms_);
    out.put(next_);
    return out.take();
  });
}

bool GeneratorSource::restore(std::string_view position) {
  pipeline::SnapshotReader in(position);
  const auto start_ms = in.get<std::int64_t>();
  const auto next = in.get<std::uint64_t>();
  if (!in.done()) return false;
  start_ms_ = start_ms;
  next_ = next;
  return true;
}

void GeneratorSource::run(std::stop_token stop) {
  if (spec_.profile == config::GeneratorProfile::kNexmark) {
    generate<NexmarkEvents>(spec_, start_ms_, router_, next_, stop);
  } else {
    generate<KeyEvents>(spec_, start_ms_, router_, next_, stop);
  }
}

}  // namespace rivulet::connectors
