// The shipped NEXMark examples (examples/nexmark/q5.yaml, q7.yaml, q8.yaml), run as they are on a
// mixed stream of persons, auctions and bids of our own making (out of order within the 4 s
// watermark delay, so none is late): every result in their output files against a brute-force Q5,
// Q7 and Q8.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

constexpr std::int64_t kBase = 1'700'000'000'000;  // ms, a multiple of 10 s

struct Bid {
  std::int64_t time, auction, bidder, price;
};
struct Person {
  std::int64_t time, id;
  std::string name;
};
struct Auction {
  std::int64_t time, seller;
};

// The example as shipped, its input, output and socket moved into `dir`.
std::string example(const TempDir& dir, const std::string& name) {
  std::string yaml = readFile(kSourceDir + "/examples/nexmark/" + name + ".yaml");
  const auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = yaml.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) yaml.replace(at, from.size(), to);
  };
  replace("path: nexmark.jsonl", "path: " + dir.file("nexmark.jsonl"));
  replace("output: " + name + ".jsonl", "output: " + dir.file("out.jsonl"));
  replace("ipc:///tmp/rivulet-" + name + ".ipc", "ipc://" + dir.file("r.ipc"));
  return yaml;
}

std::vector<Result> run(const TempDir& dir, const std::string& name) {
  Daemon daemon(dir, example(dir, name));
  const auto exit_code = daemon.process().wait(60s);
  EXPECT_TRUE(exit_code.has_value()) << "the end of the input did not end the daemon";
  if (exit_code) {
    EXPECT_EQ(*exit_code, 0) << daemon.log();
  }
  return parseResults(messagesFromJsonLines(readFile(dir.file("out.jsonl"))));
}

class NexmarkExamples : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed());
    std::vector<std::pair<std::int64_t, std::string>> lines;  // (time, line)
    for (int i = 0; i < 6000; ++i) {
      // 100 events a second over a minute, each up to 3 s late: out of order, never by more
      // than the 4 s the watermark waits.
      const std::int64_t time = kBase + i * 10 + static_cast<std::int64_t>(rng() % 3001);
      const std::string t = std::to_string(time);
      const int kind = rng() % 10 == 0 ? 0 : rng() % 10 == 0 ? 1 : 2;
      if (kind == 0) {
        // Names with what JSON must escape, and one shared by two persons.
        const Person p{time, i, i % 7 == 0 ? "Ann \"A\" Lee" : "p" + std::to_string(i)};
        persons.push_back(p);
        lines.emplace_back(time, "{\"event_type\":0,\"dateTime\":" + t +
                                     ",\"id\":" + std::to_string(i) + ",\"name\":\"" +
                                     (i % 7 == 0 ? std::string("Ann \\\"A\\\" Lee") : p.name) +
                                     "\",\"email_address\":\"e\",\"credit_card\":\"c\",\"city\":"
                                     "\"x\",\"state\":\"OR\"}");
      } else if (kind == 1) {
        // Mostly a recent person (several auctions of one seller in a window), sometimes one
        // who never registered.
        const std::int64_t seller =
            !persons.empty() && rng() % 10 != 0
                ? persons[persons.size() - 1 - rng() % std::min<std::size_t>(5, persons.size())].id
                : 999'999;
        auctions.push_back(Auction{time, seller});
        lines.emplace_back(time,
                           "{\"event_type\":1,\"dateTime\":" + t + ",\"id\":" + std::to_string(i) +
                               ",\"item_name\":\"i\",\"initial_bid\":1,"
                               "\"reserve\":2,\"expires\":" +
                               t + ",\"seller\":" + std::to_string(seller) + ",\"category\":3}");
      } else {
        // Few auctions, bidders and prices: counts tie at the top of Q5, prices at Q7's.
        const Bid bid{time, 1000 + static_cast<std::int64_t>(rng() % 8),
                      2000 + static_cast<std::int64_t>(rng() % 5),
                      100 * (1 + static_cast<std::int64_t>(rng() % 20))};
        bids.push_back(bid);
        lines.emplace_back(time, "{\"event_type\":2,\"dateTime\":" + t +
                                     ",\"auction\":" + std::to_string(bid.auction) +
                                     ",\"bidder\":" + std::to_string(bid.bidder) + ",\"price\":" +
                                     std::to_string(bid.price) + ",\"channel\":\"web\"}");
      }
    }
    std::string text;
    for (const auto& [time, line] : lines) text += line + "\n";
    writeFile(dir.file("nexmark.jsonl"), text);
  }

  TempDir dir;
  std::vector<Bid> bids;
  std::vector<Person> persons;
  std::vector<Auction> auctions;
};

TEST_F(NexmarkExamples, Q5IsTheAuctionsWithTheMostBidsPerHoppingWindow) {
  // (window start, auction) -> bids, over every 10 s window sliding by 2 s.
  std::map<std::int64_t, std::map<std::int64_t, std::int64_t>> counts;
  for (const Bid& b : bids) {
    const std::int64_t last = b.time - ((b.time % 2000) + 2000) % 2000;
    for (std::int64_t start = last; start > b.time - 10'000; start -= 2000) {
      ++counts[start][b.auction];
    }
  }
  std::set<std::tuple<std::int64_t, std::string, std::int64_t>> expected;  // start, auction, num
  for (const auto& [start, per_auction] : counts) {
    std::int64_t most = 0;
    for (const auto& [auction, n] : per_auction) most = std::max(most, n);
    for (const auto& [auction, n] : per_auction) {
      if (n == most) expected.emplace(start, std::to_string(auction), n);
    }
  }
  std::set<std::tuple<std::int64_t, std::string, std::int64_t>> got;
  for (const Result& r : run(dir, "q5")) {
    EXPECT_EQ(r.pipeline, "q5");
    EXPECT_EQ(r.kind, "final");
    EXPECT_EQ(r.end - r.start, 10'000);
    EXPECT_EQ(r.values.at("rank").integer, 1) << r.payload;
    EXPECT_TRUE(got.emplace(r.start, r.key.at(0).second, r.values.at("num").integer).second)
        << "twice: " << r.payload;
  }
  EXPECT_EQ(got, expected);
}

TEST_F(NexmarkExamples, Q7IsTheBidsAtEachWindowsHighestPrice) {
  std::map<std::int64_t, std::int64_t> highest;  // window start -> price
  for (const Bid& b : bids) {
    std::int64_t& h = highest[b.time - ((b.time % 10'000) + 10'000) % 10'000];
    h = std::max(h, b.price);
  }
  // (start, auction, bidder, price) -> identical bids
  std::map<std::tuple<std::int64_t, std::string, std::string, std::string>, std::int64_t> expected;
  for (const Bid& b : bids) {
    const std::int64_t start = b.time - ((b.time % 10'000) + 10'000) % 10'000;
    if (b.price == highest[start]) {
      ++expected[{start, std::to_string(b.auction), std::to_string(b.bidder),
                  std::to_string(b.price)}];
    }
  }
  std::map<std::tuple<std::int64_t, std::string, std::string, std::string>, std::int64_t> got;
  for (const Result& r : run(dir, "q7")) {
    EXPECT_EQ(r.kind, "final");
    EXPECT_EQ(r.end - r.start, 10'000);
    ASSERT_EQ(r.key.size(), 3u) << r.payload;
    EXPECT_EQ(r.values.at("rank").integer, 1) << r.payload;
    got[{r.start, r.key[0].second, r.key[1].second, r.key[2].second}] = r.values.at("bids").integer;
  }
  EXPECT_EQ(got, expected);
}

TEST_F(NexmarkExamples, Q8IsThePersonsWhoOpenedAnAuctionInTheWindowTheyRegisteredIn) {
  const auto window = [](std::int64_t time) { return time - ((time % 10'000) + 10'000) % 10'000; };
  std::set<std::pair<std::int64_t, std::int64_t>> sold;  // (window start, seller)
  for (const Auction& a : auctions) sold.emplace(window(a.time), a.seller);
  std::set<std::tuple<std::int64_t, std::string, std::string>> expected;  // start, id, name
  for (const Person& p : persons) {
    if (sold.contains({window(p.time), p.id})) {
      expected.emplace(window(p.time), std::to_string(p.id), p.name);
    }
  }
  ASSERT_GT(expected.size(), 50u);
  ASSERT_LT(expected.size(), persons.size()) << "some persons must sell nothing in their window";
  std::set<std::tuple<std::int64_t, std::string, std::string>> got;
  for (const Result& r : run(dir, "q8")) {
    EXPECT_EQ(r.pipeline, "q8");
    EXPECT_EQ(r.kind, "final");
    EXPECT_EQ(r.end - r.start, 10'000);
    ASSERT_EQ(r.key.size(), 1u) << r.payload;
    EXPECT_EQ(r.key[0].first, "id");
    EXPECT_TRUE(got.emplace(r.start, r.key[0].second, r.values.at("name").text).second)
        << "twice: " << r.payload;
  }
  EXPECT_EQ(got, expected);
}

}  // namespace
}  // namespace rivulet::testutil
