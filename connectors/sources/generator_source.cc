#include "connectors/sources/generator_source.h"

#include <time.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <span>
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
  // `v` must outlive the event: it is not copied.
  void setText(std::string_view v) noexcept { value_->text = v; }
  // Missing, as a field an event does not have, until restore() gives it its type back.
  void setMissing() noexcept { value_->type = config::FieldType::kMissing; }
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

// Uniform in [0, n), by Lemire's multiply-shift.
std::uint64_t below(std::uint64_t random, std::uint64_t n) noexcept {
  __extension__ using U128 = unsigned __int128;
  return static_cast<std::uint64_t>((static_cast<U128>(random) * n) >> 64);
}

// Digits below small bases for the texts: several from each output of a SplitMix64 stream, since
// one output per letter would cost more than the rest of the event. Multiplying the output (a
// fraction of 2^64) by the base takes a digit from the top and leaves the rest of the fraction
// for the next one; a fresh output is drawn before fewer than 16 unused bits would be left, so
// that every digit stays close to uniform.
class Digits {
 public:
  explicit Digits(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t below(std::uint64_t n) noexcept {
    const auto bits = static_cast<int>(std::bit_width(n));
    if (bits_ < bits) {
      fraction_ = mix(state_ += kGamma);
      bits_ = 48;
    }
    bits_ -= bits;
    __extension__ using U128 = unsigned __int128;
    const U128 product = static_cast<U128>(fraction_) * n;
    fraction_ = static_cast<std::uint64_t>(product);
    return static_cast<std::uint64_t>(product >> 64);
  }

 private:
  std::uint64_t state_, fraction_ = 0;
  int bits_ = 0;
};

// A NexmarkText written from the front; the generator's texts fit by construction.
class TextWriter {
 public:
  explicit TextWriter(NexmarkText& text) noexcept : text_(text) { text_.size = 0; }
  void put(char c) noexcept { text_.bytes[text_.size++] = c; }
  void put(std::string_view s) noexcept {
    std::memcpy(text_.bytes + text_.size, s.data(), s.size());
    text_.size = static_cast<std::uint8_t>(text_.size + s.size());
  }
  void putLetters(Digits& digits, std::uint64_t n) noexcept {
    for (; n > 0; --n) put(static_cast<char>('a' + digits.below(26)));
  }
  void putNumber(std::uint64_t n) noexcept {
    char* end = std::to_chars(text_.bytes + text_.size, text_.bytes + sizeof text_.bytes, n).ptr;
    text_.size = static_cast<std::uint8_t>(end - text_.bytes);
  }

 private:
  NexmarkText& text_;
};

// NEXMark's fixed lists (Beam's PersonGenerator and Flink's BidGenerator).
constexpr std::string_view kFirstNames[] = {"Peter", "Paul",  "Luke",  "John",   "Saul",  "Vicky",
                                            "Kate",  "Julie", "Sarah", "Deiter", "Walter"};
constexpr std::string_view kLastNames[] = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                           "Walton", "Smith",  "Jones",   "Noris"};
constexpr std::string_view kCities[] = {"Phoenix",  "Los Angeles", "San Francisco", "Boise",
                                        "Portland", "Bend",        "Redmond",       "Seattle",
                                        "Kent",     "Cheyenne"};
constexpr std::string_view kStates[] = {"AZ", "CA", "ID", "OR", "WA", "WY"};
constexpr std::string_view kHotChannels[] = {"Google", "Facebook", "Baidu", "Apple"};

// Which fields nexmarkFields() computes: those a plan reads. A price costs an exp() and a text
// a few dozen multiplies, which a benchmark reading only bids should not pay for persons and
// auctions. Ids are an addition, always made.
struct WantedFields {
  bool name = true, email_address = true, credit_card = true, city = true, state = true;
  bool item_name = true, initial_bid = true, reserve = true, expires = true, seller = true,
       category = true;
  bool auction = true, bidder = true, price = true, channel = true;
  bool some_person = true, some_auction = true;  // any of the person's, the auction's fields
};

// The shape of the nexmark profile's stream (Beam's GeneratorConfig and generators).
constexpr std::uint64_t kEpoch = 50;  // events per person/auction/bid cycle
constexpr std::uint64_t kPersons = 1, kAuctions = 3;
constexpr std::int64_t kFirstId = 1000;
constexpr std::uint64_t kHot = 100;
constexpr std::uint64_t kInFlightAuctions = 100, kAuctionLead = 10;
constexpr std::uint64_t kActivePersons = 1000, kPersonLead = 10;
constexpr std::int64_t kFirstCategory = 10;
constexpr std::uint64_t kCategories = 5;
constexpr std::uint64_t kChannels = 10'000;

// The draws of event i: outputs 1 to 7 of the SplitMix64 stream of its index (8 apart, so no
// two events share one); a text takes one as the start of a stream of its own.
class EventDraws {
 public:
  EventDraws(std::uint64_t seed, std::uint64_t i) noexcept
      : state_(seed * 0xd1b54a32d192ed03ULL + 8 * i * kGamma) {}
  std::uint64_t operator()(std::uint64_t k) const noexcept { return mix(state_ + k * kGamma); }

 private:
  std::uint64_t state_;
};

// Cents, log-uniform in [100, 10^8].
std::int64_t nexmarkPrice(std::uint64_t random) noexcept {
  constexpr double kLn1e6 = 13.815510557964274;  // 10^(6u) = e^(u ln 10^6): exp is cheaper than pow
  const double unit = static_cast<double>(random >> 11) * 0x1.0p-53;
  return std::llround(std::exp(unit * kLn1e6) * 100.0);
}

// One of the kActivePersons most recent of `persons` (ids from 0), or of the `lead` after them.
std::uint64_t recentPerson(std::uint64_t persons, std::uint64_t random,
                           std::uint64_t lead) noexcept {
  const std::uint64_t active = std::min(persons, kActivePersons);
  return persons - active + below(random, active + lead);
}

// The wanted fields of a person but its id. Out of line, as is auctionFields(): 4 events in 50
// are not worth making the bids' path longer.
[[gnu::noinline]] void personFields(const EventDraws& draw, const WantedFields& wanted,
                                    NexmarkEvent& e) noexcept {
  if (wanted.name) {
    const std::uint64_t random = draw(1);
    TextWriter name(e.name);
    name.put(kFirstNames[below(random, std::size(kFirstNames))]);
    name.put(' ');
    // The low half is all but independent of the high half the first name came from.
    name.put(kLastNames[below(random << 32, std::size(kLastNames))]);
  }
  if (wanted.email_address) {
    Digits digits(draw(2));
    TextWriter email(e.email_address);
    email.putLetters(digits, 3 + digits.below(4));
    email.put('@');
    email.putLetters(digits, 3 + digits.below(2));
    email.put(".com");
  }
  if (wanted.credit_card) {
    // 16 decimal digits of one draw (10^16 < 2^64), in groups of four.
    std::uint64_t number = below(draw(3), 10'000'000'000'000'000ULL);
    NexmarkText& card = e.credit_card;
    card.size = 19;
    for (int at = 18; at >= 0; --at) {
      if (at % 5 == 4) {
        card.bytes[at] = ' ';
      } else {
        card.bytes[at] = static_cast<char>('0' + number % 10);
        number /= 10;
      }
    }
  }
  if (wanted.city) e.city = kCities[below(draw(4), std::size(kCities))];
  if (wanted.state) e.state = kStates[below(draw(5), std::size(kStates))];
}

// The wanted fields of an auction but its id: event i at `ts_ms`, after `persons` persons.
[[gnu::noinline]] void auctionFields(const config::GeneratorSpec& spec, std::uint64_t i,
                                     std::int64_t ts_ms, const EventDraws& draw,
                                     std::uint64_t persons, const WantedFields& wanted,
                                     NexmarkEvent& e) noexcept {
  if (wanted.seller) {
    // Unlike a bidder, a seller has no lead: it is always a person already generated, so that
    // a join of auctions with persons by seller (NEXMark Q8) finds it.
    const std::uint64_t seller =
        (draw(1) & 3) != 0 ? (persons - 1) / kHot * kHot : recentPerson(persons, draw(2), 0);
    e.seller = kFirstId + static_cast<std::int64_t>(seller);
  }
  if (wanted.category) {
    e.category = kFirstCategory + static_cast<std::int64_t>(below(draw(3), kCategories));
  }
  if (wanted.initial_bid || wanted.reserve) e.initial_bid = nexmarkPrice(draw(4));
  if (wanted.reserve) e.reserve = e.initial_bid + nexmarkPrice(draw(5));
  if (wanted.expires) {
    // As in Beam: on average as long as it takes for kInFlightAuctions more auctions to start.
    constexpr std::uint64_t kEventsForAuctions = kInFlightAuctions * kEpoch / kAuctions;
    const auto eps = static_cast<std::uint64_t>(spec.events_per_second);
    const std::uint64_t horizon = (i + kEventsForAuctions) * 1000 / eps - i * 1000 / eps;
    e.expires = ts_ms + 1 +
                static_cast<std::int64_t>(below(draw(6), std::max<std::uint64_t>(2 * horizon, 1)));
  }
  if (wanted.item_name) {
    // Beam's nextString(20): 3 to 19 characters, one in 13 a space; here never the first or the
    // last, where Beam's would be trimmed off.
    Digits digits(draw(7));
    const std::uint64_t length = 3 + digits.below(17);
    TextWriter item(e.item_name);
    item.putLetters(digits, 1);
    for (std::uint64_t k = 2; k < length; ++k) {
      const std::uint64_t c = digits.below(13 * 26);
      item.put(c < 26 ? ' ' : static_cast<char>('a' + c % 26));
    }
    item.putLetters(digits, 1);
  }
}

// The `nexmark` profile (see NexmarkEvent): event i, with time `ts_ms`, written into `e`, of
// which only the type, the time, the id and the wanted fields of the event's type are set (the
// others keep what they had). Each field has its own random draws, so leaving one out changes
// no other. Inlined into the generator loop, since as a call it added a tenth to a bid's cost in
// the generator.
[[gnu::always_inline]] inline void nexmarkFields(const config::GeneratorSpec& spec, std::uint64_t i,
                                                 std::int64_t ts_ms, const WantedFields& wanted,
                                                 NexmarkEvent& e) noexcept {
  const std::uint64_t epoch = i / kEpoch;
  const std::uint64_t offset = i % kEpoch;
  const EventDraws draw(spec.seed, i);
  e.ts_ms = ts_ms;
  if (offset < kPersons) {
    e.type = NexmarkEvent::kPerson;
    e.id = kFirstId + static_cast<std::int64_t>(epoch * kPersons + offset);
    if (wanted.some_person) personFields(draw, wanted, e);
    return;
  }
  // Persons so far: a cycle's auctions and bids come after its persons, and its bids after its
  // auctions.
  const std::uint64_t persons = epoch * kPersons + kPersons;
  if (offset < kPersons + kAuctions) {
    e.type = NexmarkEvent::kAuction;
    e.id = kFirstId + static_cast<std::int64_t>(epoch * kAuctions + offset - kPersons);
    if (wanted.some_auction) auctionFields(spec, i, ts_ms, draw, persons, wanted, e);
    return;
  }
  const std::uint64_t last_auction = epoch * kAuctions + kAuctions - 1;
  e.type = NexmarkEvent::kBid;
  if (wanted.auction) {
    std::uint64_t auction;
    if (draw(1) & 1) {
      auction = last_auction / kHot * kHot;
    } else {
      const std::uint64_t lowest =
          last_auction > kInFlightAuctions ? last_auction - kInFlightAuctions : 0;
      auction = lowest + below(draw(2), last_auction - lowest + 1 + kAuctionLead);
    }
    e.auction = kFirstId + static_cast<std::int64_t>(auction);
  }
  if (wanted.bidder) {
    const std::uint64_t bidder = (draw(3) & 3) != 0 ? (persons - 1) / kHot * kHot + 1
                                                    : recentPerson(persons, draw(4), kPersonLead);
    e.bidder = kFirstId + static_cast<std::int64_t>(bidder);
  }
  if (wanted.price) e.price = nexmarkPrice(draw(5));
  if (wanted.channel) {
    // As in Flink's NEXMark: half the bids come through a hot channel.
    const std::uint64_t random = draw(6);
    if (random & 1) {
      TextWriter(e.channel).put(kHotChannels[below(random, std::size(kHotChannels))]);
    } else {
      TextWriter channel(e.channel);
      channel.put("channel-");
      channel.putNumber(below(draw(7), kChannels));
    }
  }
}

class NexmarkEvents {
 public:
  NexmarkEvents(const config::GeneratorSpec& spec, const pipeline::SourcePlan& plan)
      : spec_(spec),
        values_(plan.fields.size()),
        type_(values_, plan, "event_type", FieldType::kNumber, /*integer=*/true),
        time_(values_, plan, "dateTime", FieldType::kNumber, /*integer=*/true),
        id_(values_, plan, "id", FieldType::kNumber, /*integer=*/true),
        name_(values_, plan, "name", FieldType::kString),
        email_address_(values_, plan, "email_address", FieldType::kString),
        credit_card_(values_, plan, "credit_card", FieldType::kString),
        city_(values_, plan, "city", FieldType::kString),
        state_(values_, plan, "state", FieldType::kString),
        item_name_(values_, plan, "item_name", FieldType::kString),
        initial_bid_(values_, plan, "initial_bid", FieldType::kNumber, /*integer=*/true),
        reserve_(values_, plan, "reserve", FieldType::kNumber, /*integer=*/true),
        expires_(values_, plan, "expires", FieldType::kNumber, /*integer=*/true),
        seller_(values_, plan, "seller", FieldType::kNumber, /*integer=*/true),
        category_(values_, plan, "category", FieldType::kNumber, /*integer=*/true),
        auction_(values_, plan, "auction", FieldType::kNumber, /*integer=*/true),
        bidder_(values_, plan, "bidder", FieldType::kNumber, /*integer=*/true),
        price_(values_, plan, "price", FieldType::kNumber, /*integer=*/true),
        channel_(values_, plan, "channel", FieldType::kString),
        wanted_{.name = name_.read(),
                .email_address = email_address_.read(),
                .credit_card = credit_card_.read(),
                .city = city_.read(),
                .state = state_.read(),
                .item_name = item_name_.read(),
                .initial_bid = initial_bid_.read(),
                .reserve = reserve_.read(),
                .expires = expires_.read(),
                .seller = seller_.read(),
                .category = category_.read(),
                .auction = auction_.read(),
                .bidder = bidder_.read(),
                .price = price_.read(),
                .channel = channel_.read(),
                .some_person = name_.read() || email_address_.read() || credit_card_.read() ||
                               city_.read() || state_.read(),
                .some_auction = item_name_.read() || initial_bid_.read() || reserve_.read() ||
                                expires_.read() || seller_.read() || category_.read()} {
    keepRead(read_slots_[NexmarkEvent::kPerson],
             {&id_, &name_, &email_address_, &credit_card_, &city_, &state_});
    keepRead(read_slots_[NexmarkEvent::kAuction],
             {&id_, &item_name_, &initial_bid_, &reserve_, &expires_, &seller_, &category_});
    keepRead(read_slots_[NexmarkEvent::kBid], {&auction_, &bidder_, &price_, &channel_});
    for (const ReadSlots& slots : read_slots_) {
      for (Slot* slot : slots.view()) slot->setMissing();
    }
    reads_person_or_auction_ =
        read_slots_[NexmarkEvent::kPerson].size + read_slots_[NexmarkEvent::kAuction].size > 0;
  }

  const config::FieldValue* make(std::uint64_t i, std::int64_t ts_ms) noexcept {
    nexmarkFields(spec_, i, ts_ms, wanted_, event_);
    const NexmarkEvent& e = event_;
    time_.setInteger(ts_ms);
    type_.setInteger(e.type);
    if (e.type != shown_) [[unlikely]] {
      show(e.type);
    }
    if (e.type == NexmarkEvent::kBid) [[likely]] {
      auction_.setInteger(e.auction);
      bidder_.setInteger(e.bidder);
      price_.setInteger(e.price);
      channel_.setText(e.channel.view());
    } else if (reads_person_or_auction_) {
      setPersonOrAuction(e);
    }
    return values_.data();
  }

 private:
  // The fields of an event type besides its type and time that a pipeline reads: only those need
  // their type switched, since an unread field's value goes nowhere.
  struct ReadSlots {
    Slot* slots[7] = {};
    std::size_t size = 0;
    std::span<Slot* const> view() const noexcept { return {slots, size}; }
  };
  static void keepRead(ReadSlots& into, std::initializer_list<Slot*> slots) noexcept {
    for (Slot* slot : slots) {
      if (slot->read()) into.slots[into.size++] = slot;
    }
  }

  // The fields of the type shown so far go missing and those of `type` come back: three times
  // per 50 events, not once per field and event.
  [[gnu::noinline]] void show(int type) noexcept {
    if (shown_ >= 0) {
      for (Slot* slot : read_slots_[shown_].view()) slot->setMissing();
    }
    for (Slot* slot : read_slots_[type].view()) slot->restore();
    shown_ = type;
  }

  // Out of the bids' path, as personFields() and auctionFields() are.
  [[gnu::noinline]] void setPersonOrAuction(const NexmarkEvent& e) noexcept {
    id_.setInteger(e.id);
    if (e.type == NexmarkEvent::kPerson) {
      name_.setText(e.name.view());
      email_address_.setText(e.email_address.view());
      credit_card_.setText(e.credit_card.view());
      city_.setText(e.city);
      state_.setText(e.state);
    } else {
      item_name_.setText(e.item_name.view());
      initial_bid_.setInteger(e.initial_bid);
      reserve_.setInteger(e.reserve);
      expires_.setInteger(e.expires);
      seller_.setInteger(e.seller);
      category_.setInteger(e.category);
    }
  }

  const config::GeneratorSpec& spec_;
  std::vector<config::FieldValue> values_;
  Slot type_, time_, id_;
  Slot name_, email_address_, credit_card_, city_, state_;
  Slot item_name_, initial_bid_, reserve_, expires_, seller_, category_;
  Slot auction_, bidder_, price_, channel_;
  ReadSlots read_slots_[3];  // by event type
  bool reads_person_or_auction_ = false;
  const WantedFields wanted_;
  NexmarkEvent event_;  // the texts the fields' views point into
  int shown_ = -1;      // the type whose fields are present; none at first
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
  NexmarkEvent e;
  nexmarkFields(spec, i,
                start_ms + static_cast<std::int64_t>(
                               i * 1000 / static_cast<std::uint64_t>(spec.events_per_second)),
                WantedFields{}, e);
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
