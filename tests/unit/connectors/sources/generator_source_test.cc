// GeneratorSource: generateEvent is a pure, well-spread function of (seed, i), nexmarkEvent has
// NEXMark's proportions, hot spots and person, auction and bid fields, and a real source run into
// real rings delivers exactly its events, keyed, watermarked and ended.
#include "connectors/sources/generator_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <regex>
#include <set>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/support/plans.h"
#include "tests/support/printers.h"
#include "tests/support/rings.h"
#include "tests/support/slowdown.h"

namespace rivulet::connectors {
namespace {

using pipeline::RecordType;
using testutil::kMs;
using testutil::Record;
using testutil::RingSet;

config::GeneratorSpec spec(std::int64_t keys, std::int64_t eps, std::uint64_t seed) {
  config::GeneratorSpec s;
  s.keys = keys;
  s.events_per_second = eps;
  s.seed = seed;
  return s;
}

// ---- generateEvent ----

TEST(GenerateEvent, SameSeedSameEvents) {
  const config::GeneratorSpec a = spec(1000, 5000, 7);
  const config::GeneratorSpec b = spec(1000, 5000, 7);
  for (std::uint64_t i = 0; i < 10'000; ++i) {
    const GeneratedEvent x = generateEvent(a, 1'000, i);
    const GeneratedEvent y = generateEvent(b, 1'000, i);
    ASSERT_EQ(x.ts_ms, y.ts_ms) << i;
    ASSERT_EQ(x.key, y.key) << i;
    ASSERT_EQ(x.value, y.value) << i;
  }
}

TEST(GenerateEvent, EventIsAFunctionOfItsIndexAlone) {
  const config::GeneratorSpec s = spec(1000, 5000, 3);
  std::vector<GeneratedEvent> forward;
  for (std::uint64_t i = 0; i < 1000; ++i) forward.push_back(generateEvent(s, 0, i));
  for (std::uint64_t i = 1000; i-- > 0;) {
    const GeneratedEvent e = generateEvent(s, 0, i);
    ASSERT_EQ(e.key, forward[i].key) << i;
    ASSERT_EQ(e.value, forward[i].value) << i;
  }
}

TEST(GenerateEvent, DifferentSeedDifferentEvents) {
  const config::GeneratorSpec a = spec(1000, 5000, 1);
  const config::GeneratorSpec b = spec(1000, 5000, 2);
  int same_key = 0;
  int same_value = 0;
  const int n = 10'000;
  for (int i = 0; i < n; ++i) {
    const GeneratedEvent x = generateEvent(a, 0, static_cast<std::uint64_t>(i));
    const GeneratedEvent y = generateEvent(b, 0, static_cast<std::uint64_t>(i));
    EXPECT_EQ(x.ts_ms, y.ts_ms);  // time depends on the index only
    same_key += x.key == y.key;
    same_value += x.value == y.value;
  }
  // Independent keys collide with probability 1/1000: ~10 of 10,000.
  EXPECT_LT(same_key, 50);
  EXPECT_EQ(same_value, 0);
}

TEST(GenerateEvent, TimeIsStartPlusFloorOfIndexTimes1000OverRate) {
  struct Case {
    std::int64_t eps;
    std::uint64_t i;
    std::int64_t ts;  // with start 1000
  };
  const Case cases[] = {
      {3, 0, 1000},           {3, 1, 1333},
      {3, 2, 1666},           {3, 3, 2000},
      {3, 4, 2333},           {1000, 0, 1000},
      {1000, 1, 1001},        {1000, 123'456, 124'456},
      {1'000'000, 999, 1000}, {1'000'000, 1000, 1001},
      {1, 5, 6000},           {7, 1'000'000'000'000ULL, 1000 + 142'857'142'857'142},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(generateEvent(spec(10, c.eps, 1), 1000, c.i).ts_ms, c.ts)
        << "eps " << c.eps << " i " << c.i;
  }
  // And against the formula in 128-bit arithmetic, with a start in real epoch milliseconds.
  const std::int64_t start = 1'700'000'000'000;
  for (std::int64_t eps : {1, 3, 7, 999, 1000, 1001, 100'000, 3'000'000}) {
    std::int64_t previous = start;
    for (std::uint64_t i = 0; i < 20'000; ++i) {
      __extension__ using I128 = __int128;
      const auto expected =
          static_cast<std::int64_t>(start + static_cast<I128>(i) * 1000 / static_cast<I128>(eps));
      const std::int64_t ts = generateEvent(spec(10, eps, 9), start, i).ts_ms;
      ASSERT_EQ(ts, expected) << "eps " << eps << " i " << i;
      ASSERT_GE(ts, previous);
      previous = ts;
    }
  }
}

// Chi-square statistic of `n` keys drawn from [0, keys), failing on a key out of range.
double chiSquare(const config::GeneratorSpec& s, std::uint64_t n) {
  std::vector<std::uint64_t> counts(static_cast<std::size_t>(s.keys), 0);
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t key = generateEvent(s, 0, i).key;
    EXPECT_LT(key, static_cast<std::uint64_t>(s.keys)) << i;
    if (key >= counts.size()) return 1e300;
    ++counts[key];
  }
  const double expected = static_cast<double>(n) / static_cast<double>(s.keys);
  double chi = 0;
  for (std::uint64_t c : counts)
    chi += (static_cast<double>(c) - expected) * (static_cast<double>(c) - expected) / expected;
  return chi;
}

TEST(GenerateEvent, KeysAreInRangeAndRoughlyUniform) {
  // Degrees of freedom = keys - 1; a fair draw stays below ~dof + 5*sqrt(2*dof) essentially
  // always, and the seeds are fixed, so these bounds do not flake.
  EXPECT_LT(chiSquare(spec(16, 1000, 1), 160'000), 15 + 5 * std::sqrt(30.0));
  EXPECT_LT(chiSquare(spec(3, 1000, 2), 30'000), 2 + 5 * std::sqrt(4.0));
  EXPECT_LT(chiSquare(spec(1000, 1000, 3), 200'000), 999 + 5 * std::sqrt(1998.0));
  EXPECT_EQ(chiSquare(spec(1, 1000, 4), 1000), 0.0);  // one key: always k0

  // Far more keys than draws: still in range, and not clumped in a corner of the range.
  const config::GeneratorSpec wide = spec(std::int64_t{1} << 62, 1000, 5);
  std::uint64_t upper_half = 0;
  for (std::uint64_t i = 0; i < 10'000; ++i) {
    const std::uint64_t key = generateEvent(wide, 0, i).key;
    ASSERT_LT(key, std::uint64_t{1} << 62);
    upper_half += key >= (std::uint64_t{1} << 61);
  }
  EXPECT_NEAR(static_cast<double>(upper_half), 5000.0, 300.0);
}

TEST(GenerateEvent, ValuesAreInUnitIntervalAndSpread) {
  const config::GeneratorSpec s = spec(10, 1000, 11);
  const int n = 100'000;
  double sum = 0;
  double low = 1;
  double high = 0;
  int below_quarter = 0;
  for (int i = 0; i < n; ++i) {
    const double v = generateEvent(s, 0, static_cast<std::uint64_t>(i)).value;
    ASSERT_GE(v, 0.0) << i;
    ASSERT_LT(v, 1.0) << i;
    sum += v;
    low = std::min(low, v);
    high = std::max(high, v);
    below_quarter += v < 0.25;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.01);
  EXPECT_NEAR(static_cast<double>(below_quarter) / n, 0.25, 0.01);
  EXPECT_LT(low, 0.001);
  EXPECT_GT(high, 0.999);
}

// ---- nexmarkEvent ----

TEST(NexmarkEvent, ProportionsHotSpotsAndPrices) {
  const config::GeneratorSpec s = spec(1, 1000, 3);
  constexpr std::uint64_t kEvents = 500'000;
  std::size_t types[3] = {0, 0, 0};
  std::size_t hot_auction = 0, hot_bidder = 0, cheap = 0;
  std::int64_t low = INT64_MAX, high = 0;
  for (std::uint64_t i = 0; i < kEvents; ++i) {
    const NexmarkEvent e = nexmarkEvent(s, 0, i);
    ASSERT_EQ(e, nexmarkEvent(s, 0, i)) << "not a function of (seed, i)";
    ++types[e.type];
    // 1 person, then 3 auctions, then 46 bids in every 50 events.
    const std::uint64_t offset = i % 50;
    ASSERT_EQ(e.type, offset < 1   ? NexmarkEvent::kPerson
                      : offset < 4 ? NexmarkEvent::kAuction
                                   : NexmarkEvent::kBid);
    EXPECT_EQ(e.ts_ms, static_cast<std::int64_t>(i));
    if (e.type != NexmarkEvent::kBid) continue;
    const auto last_auction = static_cast<std::int64_t>(i / 50 * 3 + 2);
    const auto last_person = static_cast<std::int64_t>(i / 50);
    ASSERT_GE(e.auction, 1000 + std::max<std::int64_t>(last_auction - 100, 0));
    ASSERT_LE(e.auction, 1000 + last_auction + 10);
    ASSERT_GE(e.bidder, 1000 + std::max<std::int64_t>(last_person - 999, 0));
    ASSERT_LE(e.bidder, 1000 + last_person + 10);
    hot_auction += e.auction == 1000 + last_auction / 100 * 100;
    hot_bidder += e.bidder == 1000 + last_person / 100 * 100 + 1;
    low = std::min(low, e.price);
    high = std::max(high, e.price);
    cheap += e.price < 100'000;  // 10^(6u) * 100 < 10^5 for u < 1/2
  }
  EXPECT_EQ(types[0], kEvents / 50);
  EXPECT_EQ(types[1], 3 * kEvents / 50);
  EXPECT_EQ(types[2], 46 * kEvents / 50);
  const double bids = static_cast<double>(types[2]);
  // The hot share, plus the cold draws that land on the hot id by chance (about 1/110 and 1/1010).
  EXPECT_NEAR(hot_auction / bids, 0.5 + 0.5 / 110, 0.01);
  EXPECT_NEAR(hot_bidder / bids, 0.75 + 0.25 / 1010, 0.01);
  EXPECT_NEAR(cheap / bids, 0.5, 0.01);
  EXPECT_GE(low, 100);
  EXPECT_LT(low, 110);
  EXPECT_LE(high, 100'000'000);
  EXPECT_GT(high, 99'000'000);
}

TEST(NexmarkEvent, SeedsGiveDifferentBids) {
  std::size_t bids = 0, same = 0;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    const NexmarkEvent a = nexmarkEvent(spec(1, 1000, 1), 0, i);
    if (a.type != NexmarkEvent::kBid) continue;
    ++bids;
    same += a.price == nexmarkEvent(spec(1, 1000, 2), 0, i).price;
  }
  EXPECT_EQ(bids, 920u);
  EXPECT_LT(same, 10u);
}

// NEXMark's lists (Beam's PersonGenerator, Flink's BidGenerator).
const std::set<std::string> kFirstNames = {"Peter", "Paul",  "Luke",  "John",   "Saul",  "Vicky",
                                           "Kate",  "Julie", "Sarah", "Deiter", "Walter"};
const std::set<std::string> kLastNames = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                          "Walton", "Smith",  "Jones",   "Noris"};
const std::set<std::string> kCities = {"Phoenix",  "Los Angeles", "San Francisco", "Boise",
                                       "Portland", "Bend",        "Redmond",       "Seattle",
                                       "Kent",     "Cheyenne"};
const std::set<std::string> kStates = {"AZ", "CA", "ID", "OR", "WA", "WY"};
const std::set<std::string> kHotChannels = {"Google", "Facebook", "Baidu", "Apple"};

TEST(NexmarkEvent, PersonsHaveNamesEmailsCardsCitiesAndStates) {
  const config::GeneratorSpec s = spec(1, 1000, 5);
  const std::regex email("[a-z]{3,6}@[a-z]{3,4}\\.com");
  const std::regex card("[0-9]{4} [0-9]{4} [0-9]{4} [0-9]{4}");
  std::map<std::string, int> firsts, lasts, cities, states;
  std::set<std::string> emails, cards;
  std::int64_t next_id = 1000;
  constexpr std::uint64_t kEvents = 200'000;
  for (std::uint64_t i = 0; i < kEvents; i += 50) {
    const NexmarkEvent e = nexmarkEvent(s, 0, i);
    ASSERT_EQ(e.type, NexmarkEvent::kPerson) << i;
    EXPECT_EQ(e.ts_ms, static_cast<std::int64_t>(i));
    ASSERT_EQ(e.id, next_id++) << "person ids count up from 1000";
    const std::string name(e.name.view());
    const std::size_t space = name.find(' ');
    ASSERT_NE(space, std::string::npos) << name;
    ++firsts[name.substr(0, space)];
    ++lasts[name.substr(space + 1)];
    ASSERT_TRUE(std::regex_match(std::string(e.email_address.view()), email))
        << e.email_address.view();
    ASSERT_TRUE(std::regex_match(std::string(e.credit_card.view()), card)) << e.credit_card.view();
    emails.emplace(e.email_address.view());
    cards.emplace(e.credit_card.view());
    ++cities[std::string(e.city)];
    ++states[std::string(e.state)];
    // A person has no auction or bid fields.
    EXPECT_TRUE(e.item_name.view().empty() && e.channel.view().empty());
    EXPECT_EQ(e.seller + e.auction + e.bidder + e.price + e.reserve, 0);
  }
  const auto keys = [](const std::map<std::string, int>& counts) {
    std::set<std::string> out;
    for (const auto& [key, count] : counts) out.insert(key);
    return out;
  };
  // Every list item drawn, none more than twice as often as a fair share (4,000 persons).
  EXPECT_EQ(keys(firsts), kFirstNames);
  EXPECT_EQ(keys(lasts), kLastNames);
  EXPECT_EQ(keys(cities), kCities);
  EXPECT_EQ(keys(states), kStates);
  for (const auto* counts : {&firsts, &lasts, &cities, &states}) {
    for (const auto& [key, count] : *counts) {
      EXPECT_LT(count, 2 * 4000 / static_cast<int>(counts->size())) << key;
      EXPECT_GT(count, 4000 / 2 / static_cast<int>(counts->size())) << key;
    }
  }
  EXPECT_EQ(cards.size(), 4000u);   // 16 random digits: no two alike
  EXPECT_GT(emails.size(), 3990u);  // 26^6 + ... local parts, 26^4 + 26^3 domains
}

TEST(NexmarkEvent, AuctionsHaveSellersAmongEarlierPersonsAndConsistentPrices) {
  const config::GeneratorSpec s = spec(1, 1000, 6);
  constexpr std::uint64_t kEvents = 500'000;
  const std::regex item("[a-z][a-z ]{1,17}[a-z]");
  std::set<std::int64_t> persons;  // ids of the persons generated so far
  std::map<std::int64_t, int> categories;
  std::int64_t next_id = 1000;
  std::size_t auctions = 0, hot_sellers = 0, spaced_items = 0;
  std::size_t shortest_item = 100, longest_item = 0;
  std::int64_t longest_expiry = 0;
  double expiry_sum = 0;
  for (std::uint64_t i = 0; i < kEvents; ++i) {
    const std::uint64_t offset = i % 50;
    if (offset >= 4) continue;  // a bid
    const NexmarkEvent e = nexmarkEvent(s, 0, i);
    if (offset == 0) {
      persons.insert(e.id);
      continue;
    }
    ASSERT_EQ(e.type, NexmarkEvent::kAuction) << i;
    ++auctions;
    ASSERT_EQ(e.id, next_id++) << "auction ids count up from 1000";
    // A seller is a person generated before the auction, among the 1,000 most recent.
    const auto last_person = static_cast<std::int64_t>(1000 + i / 50);
    ASSERT_TRUE(persons.contains(e.seller)) << "seller " << e.seller << " of event " << i;
    ASSERT_GE(e.seller, last_person - 999);
    hot_sellers += e.seller == (last_person - 1000) / 100 * 100 + 1000;
    ASSERT_GE(e.category, 10);
    ASSERT_LE(e.category, 14);
    ++categories[e.category];
    ASSERT_GE(e.initial_bid, 100);
    ASSERT_LE(e.initial_bid, 100'000'000);
    ASSERT_GE(e.reserve - e.initial_bid, 100) << "reserve below the initial bid";
    ASSERT_LE(e.reserve - e.initial_bid, 100'000'000);
    // Beam's auction length: 1 ms to twice the time of the next 100 auctions (1,666 events, at
    // 1,000 events/s 1,666 ms).
    ASSERT_GE(e.expires - e.ts_ms, 1);
    ASSERT_LE(e.expires - e.ts_ms, 2 * 1666);
    longest_expiry = std::max(longest_expiry, e.expires - e.ts_ms);
    expiry_sum += static_cast<double>(e.expires - e.ts_ms);
    const std::string name(e.item_name.view());
    ASSERT_TRUE(std::regex_match(name, item)) << '"' << name << '"';
    shortest_item = std::min(shortest_item, name.size());
    longest_item = std::max(longest_item, name.size());
    spaced_items += name.find(' ') != std::string::npos;
    // An auction has no person or bid fields.
    EXPECT_TRUE(e.name.view().empty() && e.city.empty() && e.channel.view().empty());
    EXPECT_EQ(e.auction + e.bidder + e.price, 0);
  }
  ASSERT_EQ(auctions, 3 * kEvents / 50);
  // Three quarters have the hot seller, plus the cold draws landing on it (1 in 1,000).
  EXPECT_NEAR(static_cast<double>(hot_sellers) / auctions, 0.75 + 0.25 / 1000, 0.01);
  ASSERT_EQ(categories.size(), 5u);
  for (const auto& [category, count] : categories) {
    EXPECT_NEAR(static_cast<double>(count) / auctions, 0.2, 0.01) << category;
  }
  EXPECT_NEAR(expiry_sum / auctions, 1666.0, 20.0);
  EXPECT_GT(longest_expiry, 3300);
  EXPECT_EQ(shortest_item, 3u);
  EXPECT_EQ(longest_item, 19u);
  // 3 to 19 characters, the 1 to 17 inner ones each a space one time in 13.
  EXPECT_GT(spaced_items, auctions / 3);
  EXPECT_LT(spaced_items, auctions * 3 / 4);
}

TEST(NexmarkEvent, BidsHaveChannels) {
  const config::GeneratorSpec s = spec(1, 1000, 8);
  std::map<std::string, std::size_t> hot;
  std::set<int> numbered;
  std::size_t bids = 0;
  for (std::uint64_t i = 0; i < 200'000; ++i) {
    const NexmarkEvent e = nexmarkEvent(s, 0, i);
    if (e.type != NexmarkEvent::kBid) continue;
    ++bids;
    const std::string channel(e.channel.view());
    if (kHotChannels.contains(channel)) {
      ++hot[channel];
      continue;
    }
    ASSERT_EQ(channel.rfind("channel-", 0), 0u) << channel;
    const std::string digits = channel.substr(8);
    ASSERT_FALSE(digits.empty());
    ASSERT_TRUE(std::all_of(digits.begin(), digits.end(), [](char c) {
      return c >= '0' && c <= '9';
    })) << channel;
    ASSERT_LT(std::stoi(digits), 10'000);
    numbered.insert(std::stoi(digits));
    // A bid has no person or auction fields.
    EXPECT_TRUE(e.name.view().empty() && e.item_name.view().empty());
    EXPECT_EQ(e.id + e.seller + e.reserve, 0);
  }
  // Half the bids come through one of the four hot channels, the rest through 10,000 others.
  ASSERT_EQ(hot.size(), 4u);
  for (const auto& [channel, count] : hot) {
    EXPECT_NEAR(static_cast<double>(count) / bids, 0.125, 0.01) << channel;
  }
  EXPECT_GT(numbered.size(), 9'900u);  // ~92,000 draws of 10,000
}

// Every field of every event type is a function of (seed, i): the same with the same seed, whatever
// order the events are made in, and different with another seed.
TEST(NexmarkEvent, SameSeedSameEventsOfEveryType) {
  const config::GeneratorSpec a = spec(1, 1000, 42);
  const config::GeneratorSpec b = spec(1, 1000, 42);
  const config::GeneratorSpec other = spec(1, 1000, 43);
  std::vector<NexmarkEvent> forward;
  for (std::uint64_t i = 0; i < 5000; ++i) forward.push_back(nexmarkEvent(a, 7, i));
  std::size_t same_name = 0, same_card = 0, same_item = 0, same_reserve = 0, same_channel = 0;
  for (std::uint64_t i = 5000; i-- > 0;) {
    const NexmarkEvent e = nexmarkEvent(b, 7, i);
    ASSERT_TRUE(e == forward[i]) << i;
    const NexmarkEvent o = nexmarkEvent(other, 7, i);
    ASSERT_EQ(o.type, e.type);
    ASSERT_EQ(o.ts_ms, e.ts_ms);
    ASSERT_EQ(o.id, e.id);  // ids depend on the index only
    same_name += e.type == NexmarkEvent::kPerson && o.name == e.name;
    same_card += e.type == NexmarkEvent::kPerson && o.credit_card == e.credit_card;
    same_item += e.type == NexmarkEvent::kAuction && o.item_name == e.item_name;
    same_reserve += e.type == NexmarkEvent::kAuction && o.reserve == e.reserve;
    same_channel += e.type == NexmarkEvent::kBid && o.channel == e.channel;
  }
  // 100 persons (99 names: ~1 alike by chance), 300 auctions, 4,600 bids (1 in 8 by chance).
  EXPECT_LT(same_name, 8u);
  EXPECT_EQ(same_card, 0u);
  EXPECT_EQ(same_item, 0u);
  EXPECT_EQ(same_reserve, 0u);
  EXPECT_LT(same_channel, 4600u / 8 + 100);
}

// ---- a real GeneratorSource into rings ----

constexpr std::int64_t kStartMs = 1'700'000'000'000;
constexpr std::int64_t kDelay = 2 * kMs;

config::Config generatorConfig(std::int64_t count, std::int64_t throttle = 0) {
  config::Config config;
  config::SourceConfig source;
  source.name = "gen";
  source.kind = config::SourceKind::kGenerator;
  source.time = config::TimeSpec{"ts", config::TimeUnit::kMillis};
  source.watermark.delay = kDelay;
  source.generator.keys = 50;
  source.generator.events_per_second = 1000;
  source.generator.start_ms = kStartMs;
  source.generator.throttle = throttle;
  source.generator.count = count;
  source.generator.seed = 7;
  config.sources.push_back(source);
  // Two pipelines on the same key: one carries the value, one only counts.
  config.pipelines.push_back(
      testutil::pipelineConfig("avg_by_key", "gen", {"key"},
                               {testutil::aggregate("avg", config::AggregateKind::kAvg, "value")}));
  config.pipelines.push_back(testutil::pipelineConfig(
      "count_by_key", "gen", {"key"}, {testutil::aggregate("n", config::AggregateKind::kCount)}));
  return config;
}

// Runs `source` on its own thread while this thread drains `rings`, until every ring has its
// kEnd, or `stop_when()` holds (then a stop is requested) and the source has ended.
template <typename StopWhen>
void runAndDrain(Source& source, RingSet& rings, StopWhen stop_when) {
  std::atomic<bool> done{false};
  std::jthread thread([&](std::stop_token stop) {
    source.run(stop);
    done.store(true, std::memory_order_release);
  });
  const bool stopped_or_ended = rings.drainUntil([&] { return rings.ended() || stop_when(); });
  EXPECT_TRUE(stopped_or_ended) << "no end of stream before the deadline";
  thread.request_stop();
  // A source stuck on a full ring needs a consumer to finish: keep draining until it returns.
  EXPECT_TRUE(rings.drainUntil([&] { return done.load(std::memory_order_acquire); }));
  thread.join();
  rings.drain();
}

TEST(GeneratorSource, BoundedRunDeliversExactlyItsEvents) {
  const std::int64_t n = 20'000 / RIVULET_TEST_SLOWDOWN;
  const config::Config config = generatorConfig(n);
  pipeline::SourceStats stats;
  RingSet rings(3, 1 << 12);
  GeneratorSource source(config.sources[0].generator,
                         pipeline::EventRouter(testutil::planFor(config), rings.pointers(), stats));
  EXPECT_TRUE(source.bounded());

  runAndDrain(source, rings, [] { return false; });

  // The events, as (time, key, value) for the first pipeline and (time, key) for the second.
  using WithValue = std::tuple<std::int64_t, std::string, double>;
  using WithoutValue = std::tuple<std::int64_t, std::string>;
  std::vector<WithValue> expected_avg;
  std::vector<WithoutValue> expected_count;
  for (std::int64_t i = 0; i < n; ++i) {
    const GeneratedEvent e =
        generateEvent(config.sources[0].generator, kStartMs, static_cast<std::uint64_t>(i));
    const std::string key = "k" + std::to_string(e.key);
    expected_avg.emplace_back(e.ts_ms * kMs, key, e.value);
    expected_count.emplace_back(e.ts_ms * kMs, key);
  }

  std::vector<WithValue> got_avg;
  std::vector<WithoutValue> got_count;
  std::map<std::string, std::size_t> ring_of_key;
  for (std::size_t ring = 0; ring < rings.size(); ++ring) {
    for (const Record& r : rings.records(ring)) {
      if (r.type() != RecordType::kEvent) continue;
      const std::size_t values = r.header.pipeline == 0 ? 1 : 0;
      const auto parts = testutil::keyParts(r.key(values));
      ASSERT_EQ(parts.size(), 1u);
      ASSERT_EQ(parts[0].first, pipeline::KeyPartType::kString);
      const std::string& key = parts[0].second;
      ASSERT_GE(key.size(), 2u);
      ASSERT_EQ(key[0], 'k');
      ASSERT_LT(std::stoll(key.substr(1)), 50) << key;
      EXPECT_EQ(r.header.cells, (16 + values * 8 + 3 + key.size() + 7) / 8);
      // Routed by its hash, and a key has one home whichever pipeline it belongs to.
      EXPECT_EQ(pipeline::stageOf(r.keyHash(values), 3), ring);
      const auto [it, inserted] = ring_of_key.emplace(key, ring);
      EXPECT_EQ(it->second, ring) << key;
      if (r.header.pipeline == 0) {
        got_avg.emplace_back(r.header.time, key, r.value(0));
      } else {
        ASSERT_EQ(r.header.pipeline, 1u);
        got_count.emplace_back(r.header.time, key);
      }
    }
  }
  ASSERT_EQ(got_avg.size(), static_cast<std::size_t>(n));
  ASSERT_EQ(got_count.size(), static_cast<std::size_t>(n));
  std::sort(expected_avg.begin(), expected_avg.end());
  std::sort(got_avg.begin(), got_avg.end());
  std::sort(expected_count.begin(), expected_count.end());
  std::sort(got_count.begin(), got_count.end());
  EXPECT_TRUE(got_avg == expected_avg);
  EXPECT_TRUE(got_count == expected_count);
  EXPECT_EQ(ring_of_key.size(), 50u);  // 20,000 draws hit every one of 50 keys

  // Watermarks: every ring gets them (also rings few keys go to), they never go back, no event
  // after one is older, and each is the latest event time so far minus the delay.
  EXPECT_GT(testutil::checkWatermarks(rings), 0u);
  const std::int64_t last_time =
      generateEvent(config.sources[0].generator, kStartMs, static_cast<std::uint64_t>(n - 1))
          .ts_ms *
      kMs;
  for (std::size_t ring = 0; ring < rings.size(); ++ring) {
    std::int64_t latest_watermark = pipeline::kMinTime;
    for (const Record& r : rings.records(ring)) {
      if (r.type() != RecordType::kWatermark) continue;
      EXPECT_EQ((r.header.time + kDelay - kStartMs * kMs) % kMs, 0) << "not an event time - delay";
      EXPECT_LE(r.header.time, last_time - kDelay);
      latest_watermark = r.header.time;
    }
    EXPECT_EQ(latest_watermark, last_time - kDelay) << "ring " << ring;
  }

  testutil::expectOneEndPerRing(rings, 0);
  for (std::size_t ring = 0; ring < rings.size(); ++ring) {
    EXPECT_EQ(rings.records(ring).back().header.time, last_time);
  }
  EXPECT_EQ(stats.events.load(), static_cast<std::uint64_t>(n));
  EXPECT_EQ(testutil::totalErrors(stats), 0u);
}

// A nexmark generator source of `n` events, 1,000 a second from kStartMs.
config::Config nexmarkConfig(std::int64_t n, std::uint64_t seed) {
  config::Config config;
  config::SourceConfig source;
  source.name = "nexmark";
  source.kind = config::SourceKind::kGenerator;
  source.time = config::TimeSpec{"dateTime", config::TimeUnit::kMillis};
  source.generator.profile = config::GeneratorProfile::kNexmark;
  source.generator.events_per_second = 1000;
  source.generator.start_ms = kStartMs;
  source.generator.count = n;
  source.generator.seed = seed;
  config.sources.push_back(source);
  return config;
}

config::PipelineConfig where(config::PipelineConfig p, std::string_view condition) {
  p.where = config::parseExpression(condition).expression;
  EXPECT_TRUE(p.where.has_value()) << condition;
  return p;
}

// The nexmark profile through a real router: a pipeline of bids by auction gets exactly the bids,
// with their price.
TEST(GeneratorSource, NexmarkProfileDeliversItsBids) {
  const std::int64_t n = 10'000 / RIVULET_TEST_SLOWDOWN;
  config::Config config = nexmarkConfig(n, 1);
  config.pipelines.push_back(where(
      testutil::pipelineConfig("bids", "nexmark", {"auction"},
                               {testutil::aggregate("sum", config::AggregateKind::kSum, "price")}),
      "event_type == 2"));
  pipeline::SourceStats stats;
  RingSet rings(1, 1 << 14);
  GeneratorSource generator(
      config.sources[0].generator,
      pipeline::EventRouter(testutil::planFor(config), rings.pointers(), stats));

  runAndDrain(generator, rings, [] { return false; });

  using Bid = std::tuple<std::int64_t, std::string, double>;  // time, auction, price
  std::vector<Bid> expected;
  for (std::int64_t i = 0; i < n; ++i) {
    const NexmarkEvent e =
        nexmarkEvent(config.sources[0].generator, kStartMs, static_cast<std::uint64_t>(i));
    if (e.type != NexmarkEvent::kBid) continue;
    expected.emplace_back(e.ts_ms * kMs, std::to_string(e.auction), static_cast<double>(e.price));
  }
  std::vector<Bid> got;
  for (const Record& r : rings.records(0)) {
    if (r.type() != RecordType::kEvent) continue;
    const auto parts = testutil::keyParts(r.key(1));
    ASSERT_EQ(parts.size(), 1u);
    ASSERT_EQ(parts[0].first, pipeline::KeyPartType::kNumber);
    got.emplace_back(r.header.time, parts[0].second, r.value(0));
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(expected.size(), static_cast<std::size_t>(n / 50 * 46));
  EXPECT_EQ(stats.events.load(), static_cast<std::uint64_t>(n));
}

// Every event type's fields through a real router, each pipeline reading one type's: the events
// of that type arrive with nexmarkEvent's fields, typed, and the fields of other types are
// missing (a pipeline keyed by a person's name refuses every auction and bid).
TEST(GeneratorSource, NexmarkProfileDeliversEveryTypesFields) {
  const std::int64_t n = 10'000 / RIVULET_TEST_SLOWDOWN;
  config::Config config = nexmarkConfig(n, 11);
  const auto count = testutil::aggregate("n", config::AggregateKind::kCount);
  config.pipelines.push_back(where(
      testutil::pipelineConfig("persons", "nexmark",
                               {"id", "name", "email_address", "credit_card", "city", "state"},
                               {count}),
      "event_type == 0"));
  config.pipelines.push_back(where(
      testutil::pipelineConfig(
          "auctions", "nexmark",
          {"id", "item_name", "initial_bid", "reserve", "expires", "seller", "category"}, {count}),
      "event_type == 1"));
  config.pipelines.push_back(where(
      testutil::pipelineConfig("bids", "nexmark", {"auction", "bidder", "channel"},
                               {testutil::aggregate("sum", config::AggregateKind::kSum, "price")}),
      "event_type == 2"));
  config.pipelines.push_back(testutil::pipelineConfig("names", "nexmark", {"name"}, {count}));
  pipeline::SourcePlan plan = testutil::planFor(config);
  pipeline::PipelineSourceStats names_refused;
  for (auto& route : plan.routes) {
    if (route.pipeline == 3) route.stats = &names_refused;
  }
  pipeline::SourceStats stats;
  RingSet rings(1, 1 << 16);
  GeneratorSource generator(config.sources[0].generator,
                            pipeline::EventRouter(std::move(plan), rings.pointers(), stats));

  runAndDrain(generator, rings, [] { return false; });

  // Per pipeline, each event as its time and key parts (and a bid's price).
  using Row = std::vector<std::string>;
  std::vector<Row> expected[4];
  for (std::int64_t i = 0; i < n; ++i) {
    const NexmarkEvent e =
        nexmarkEvent(config.sources[0].generator, kStartMs, static_cast<std::uint64_t>(i));
    const std::string time = std::to_string(e.ts_ms * kMs);
    switch (e.type) {
      case NexmarkEvent::kPerson:
        expected[0].push_back({time, std::to_string(e.id), std::string(e.name.view()),
                               std::string(e.email_address.view()),
                               std::string(e.credit_card.view()), std::string(e.city),
                               std::string(e.state)});
        expected[3].push_back({time, std::string(e.name.view())});
        break;
      case NexmarkEvent::kAuction:
        expected[1].push_back({time, std::to_string(e.id), std::string(e.item_name.view()),
                               std::to_string(e.initial_bid), std::to_string(e.reserve),
                               std::to_string(e.expires), std::to_string(e.seller),
                               std::to_string(e.category)});
        break;
      case NexmarkEvent::kBid:
        expected[2].push_back({time, std::to_string(e.auction), std::to_string(e.bidder),
                               std::string(e.channel.view()), std::to_string(e.price)});
        break;
    }
  }
  // Which key parts are strings, per pipeline.
  const std::vector<bool> strings[4] = {{false, true, true, true, true, true},
                                        {false, true, false, false, false, false, false},
                                        {false, false, true},
                                        {true}};
  std::vector<Row> got[4];
  for (const Record& r : rings.records(0)) {
    if (r.type() != RecordType::kEvent) continue;
    const std::size_t p = r.header.pipeline;
    ASSERT_LT(p, 4u);
    const std::size_t values = p == 2 ? 1 : 0;
    const auto parts = testutil::keyParts(r.key(values));
    ASSERT_EQ(parts.size(), strings[p].size()) << "pipeline " << p;
    Row row = {std::to_string(r.header.time)};
    for (std::size_t k = 0; k < parts.size(); ++k) {
      EXPECT_EQ(parts[k].first,
                strings[p][k] ? pipeline::KeyPartType::kString : pipeline::KeyPartType::kNumber)
          << "pipeline " << p << " part " << k;
      row.push_back(parts[k].second);
    }
    if (p == 2) row.push_back(std::to_string(static_cast<std::int64_t>(r.value(0))));
    got[p].push_back(std::move(row));
  }
  for (std::size_t p = 0; p < 4; ++p) EXPECT_EQ(got[p], expected[p]) << "pipeline " << p;
  EXPECT_EQ(expected[0].size(), static_cast<std::size_t>(n / 50));
  EXPECT_EQ(expected[1].size(), static_cast<std::size_t>(n / 50 * 3));
  EXPECT_EQ(
      names_refused.refused[static_cast<std::size_t>(pipeline::ErrorReason::kMissingField)].load(),
      static_cast<std::uint64_t>(n - n / 50));
  EXPECT_EQ(stats.events.load(), static_cast<std::uint64_t>(n));
  EXPECT_EQ(testutil::totalErrors(stats), 0u);
}

// A plan reading a few fields gets them as a plan reading all of them does: the generator leaves
// the others out, and each field has draws of its own.
TEST(GeneratorSource, NexmarkFieldsDoNotDependOnWhichOthersAreRead) {
  const std::int64_t n = 5'000 / RIVULET_TEST_SLOWDOWN;
  config::Config config = nexmarkConfig(n, 12);
  const auto count = testutil::aggregate("n", config::AggregateKind::kCount);
  config.pipelines.push_back(
      where(testutil::pipelineConfig("cities", "nexmark", {"city"}, {count}), "event_type == 0"));
  config.pipelines.push_back(
      where(testutil::pipelineConfig("items", "nexmark", {"item_name", "reserve"}, {count}),
            "event_type == 1"));
  config.pipelines.push_back(where(
      testutil::pipelineConfig("channels", "nexmark", {"channel"}, {count}), "event_type == 2"));
  pipeline::SourceStats stats;
  RingSet rings(1, 1 << 15);
  GeneratorSource generator(
      config.sources[0].generator,
      pipeline::EventRouter(testutil::planFor(config), rings.pointers(), stats));

  runAndDrain(generator, rings, [] { return false; });

  std::vector<std::vector<std::string>> expected[3];
  for (std::int64_t i = 0; i < n; ++i) {
    const NexmarkEvent e =
        nexmarkEvent(config.sources[0].generator, kStartMs, static_cast<std::uint64_t>(i));
    if (e.type == NexmarkEvent::kPerson) expected[0].push_back({std::string(e.city)});
    if (e.type == NexmarkEvent::kAuction) {
      expected[1].push_back({std::string(e.item_name.view()), std::to_string(e.reserve)});
    }
    if (e.type == NexmarkEvent::kBid) expected[2].push_back({std::string(e.channel.view())});
  }
  std::vector<std::vector<std::string>> got[3];
  for (const Record& r : rings.records(0)) {
    if (r.type() != RecordType::kEvent) continue;
    ASSERT_LT(r.header.pipeline, 3u);
    std::vector<std::string> row;
    for (const auto& part : testutil::keyParts(r.key(0))) row.push_back(part.second);
    got[r.header.pipeline].push_back(std::move(row));
  }
  for (std::size_t p = 0; p < 3; ++p) EXPECT_EQ(got[p], expected[p]) << "pipeline " << p;
  EXPECT_EQ(expected[2].size(), static_cast<std::size_t>(n / 50 * 46));
}

TEST(GeneratorSource, StopEndsAnEndlessRunWithStoppedEnd) {
  const config::Config config = generatorConfig(0);
  pipeline::SourceStats stats;
  RingSet rings(2, 1 << 10);
  GeneratorSource source(config.sources[0].generator,
                         pipeline::EventRouter(testutil::planFor(config), rings.pointers(), stats));
  EXPECT_FALSE(source.bounded());

  runAndDrain(source, rings, [&] { return rings.count(RecordType::kEvent) >= 10'000; });

  testutil::expectOneEndPerRing(rings, pipeline::kEndStopped);
  // Nothing routed is lost: each event reached the rings once per pipeline.
  EXPECT_GE(stats.events.load(), 5'000u);
  EXPECT_EQ(rings.events(0).size(), stats.events.load());
  EXPECT_EQ(rings.events(1).size(), stats.events.load());
}

TEST(GeneratorSource, ThrottleHoldsBackTheWallClockRate) {
  // 200 events at 2000/s cannot take less than 100 ms.
  const config::Config config = generatorConfig(200, 2000);
  pipeline::SourceStats stats;
  RingSet rings(2, 1 << 10);
  GeneratorSource source(config.sources[0].generator,
                         pipeline::EventRouter(testutil::planFor(config), rings.pointers(), stats));
  const auto began = std::chrono::steady_clock::now();
  runAndDrain(source, rings, [] { return false; });
  EXPECT_GE(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(100));
  EXPECT_EQ(stats.events.load(), 200u);
  testutil::expectOneEndPerRing(rings, 0);
}

TEST(GeneratorSource, StopIsSeenWhileThrottled) {
  // One event a second: after the first one the source sleeps, and must notice the stop.
  const config::Config config = generatorConfig(0, 1);
  pipeline::SourceStats stats;
  RingSet rings(1, 1 << 10);
  GeneratorSource source(config.sources[0].generator,
                         pipeline::EventRouter(testutil::planFor(config), rings.pointers(), stats));
  const auto began = std::chrono::steady_clock::now();
  runAndDrain(source, rings, [&] { return rings.count(RecordType::kEvent) >= 2; });
  // The first event is due at once, the next a second later: the stop, requested as soon as the
  // first arrived, must end the nap before the second is due.
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(900));
  EXPECT_EQ(stats.events.load(), 1u);
  testutil::expectOneEndPerRing(rings, pipeline::kEndStopped);
  EXPECT_EQ(rings.events(0).size(), stats.events.load());
}

}  // namespace
}  // namespace rivulet::connectors
