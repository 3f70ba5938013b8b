// The real daemon with two zmq sources: a SUB connecting to the test's publisher over tcp://
// (subscribed to trades/ and fx/: quotes/ messages and one-frame messages, whose JSON is their
// topic, must never arrive), and a PULL bound on ipc:// fed by the test's PUSH with one-frame
// and multipart messages. Both get malformed messages, the PULL over-long ones too. Every final
// result is checked against a brute-force reference and every counter via /metrics.
#include <gtest/gtest.h>
#include <signal.h>

#include <zmq.hpp>

#include "tests/integration/harness.h"
#include "tests/integration/harness/feed.h"
#include "tests/support/zmq_subscriptions.h"

namespace rivulet::testutil {
namespace {

constexpr int kSeconds = 4;
constexpr int kPerSecond = 200;

std::string configYaml(const TempDir& dir, const std::string& publisher) {
  return daemonYaml(dir) +
         "sources:\n"
         "  sub_in:\n"
         "    kind: zmq\n"
         "    socket: sub\n"
         "    connect: " +
         publisher +
         "\n"
         "    subscribe: [trades/, fx/]\n"
         "    overflow: drop\n"
         "    time: {field: ts, unit: ms}\n"
         "  pull_in:\n"
         "    kind: zmq\n"
         "    socket: pull\n"
         "    bind: ipc://" +
         dir.file("in.ipc") +
         "\n"
         "    max_message: 512\n"
         "    time: {field: ts, unit: ms}\n"
         "pipelines:\n" +
         tradePipeline("sub_trades", "sub_in") + tradePipeline("pull_trades", "pull_in");
}

void send(zmq::socket_t& socket, const std::vector<std::string>& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    socket.send(zmq::buffer(frames[i]),
                i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

TEST(DaemonZmq, SubWithATopicFilterAndPullMatchTheReferenceAndCountEveryMessage) {
  TempDir dir;
  zmq::context_t context(1);
  // XPUB, not PUB: it shows when the daemon's subscriptions have arrived (a PUB drops whatever no
  // subscription matches yet). No send limit: nothing is lost on our side.
  zmq::socket_t publisher(context, zmq::socket_type::xpub);
  publisher.set(zmq::sockopt::sndhwm, 0);
  publisher.set(zmq::sockopt::linger, 0);
  publisher.bind("tcp://127.0.0.1:*");

  Daemon daemon(dir, configYaml(dir, publisher.get(zmq::sockopt::last_endpoint)));
  ASSERT_TRUE(daemon.waitReady());
  EXPECT_NE(daemon.log().find("source pull_in listening on ipc://" + dir.file("in.ipc")),
            std::string::npos)
      << daemon.log();
  ASSERT_EQ(receiveSubscriptions(publisher, 2, 30s), (std::vector<std::string>{"\x01"
                                                                               "fx/",
                                                                               "\x01"
                                                                               "trades/"}))
      << "the subscriptions from the daemon";
  zmq::socket_t push(context, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 0);
  push.connect("ipc://" + dir.file("in.ipc"));
  Subscriber subscriber(daemon.publishEndpoint("ipc://"));
  ASSERT_TRUE(waitSubscribed(daemon, subscriber));

  TradeFeed sub_feed("sub_trades", 21);
  TradeFeed pull_feed("pull_trades", 22);
  std::int64_t sub_sent = 0, pull_sent = 0;  // messages the source must count
  std::map<std::string, std::int64_t> sub_errors, pull_errors;
  std::vector<std::vector<std::string>> sub_messages, pull_messages;
  for (int second = 0; second <= kSeconds; ++second) {
    sub_messages.clear();
    pull_messages.clear();
    if (second < kSeconds) {
      int i = 0;
      for (const Trade& t : sub_feed.second(second, kPerSecond)) {
        const std::string json = toJson(t);
        sub_messages.push_back({(i++ % 2 ? "trades/" : "fx/") + t.sym, json});
        // Not subscribed: never counted. A real event, so that its arrival would show.
        sub_messages.push_back({"quotes/" + t.sym, json});
        if (i % 7 == 0) sub_messages.push_back({json});
      }
      for (const Trade& t : pull_feed.second(second, kPerSecond)) {
        if (t.ts % 3 == 0) {
          pull_messages.push_back({toJson(t)});
        } else {
          pull_messages.push_back({"trades/" + t.sym, toJson(t)});
        }
      }
      const std::int64_t ts = kFeedBase + second * 1000 + 500;
      for (const auto& [reason, text] : malformedJson(ts)) {
        sub_messages.push_back({"trades/bad", text});
        ++sub_errors[reason];
        pull_messages.push_back({text});
        ++pull_errors[reason];
      }
      // Over max_message (512): counted as truncated, never parsed.
      pull_messages.push_back({"{\"ts\":" + std::to_string(ts) + ",\"sym\":\"" +
                               std::string(600, 'L') + "\",\"px\":1}"});
      ++pull_errors["truncated"];
    } else {
      const Trade far_sub = sub_feed.farFuture();
      const Trade far_pull = pull_feed.farFuture();
      sub_messages.push_back({"trades/far", toJson(far_sub)});
      pull_messages.push_back({toJson(far_pull)});
    }
    std::shuffle(sub_messages.begin(), sub_messages.end(), sub_feed.rng());
    std::shuffle(pull_messages.begin(), pull_messages.end(), pull_feed.rng());
    for (const auto& frames : sub_messages) {
      send(publisher, frames);
      if (frames.front().rfind("trades/", 0) == 0 || frames.front().rfind("fx/", 0) == 0) {
        ++sub_sent;
      }
    }
    for (const auto& frames : pull_messages) send(push, frames);
    pull_sent += static_cast<std::int64_t>(pull_messages.size());
    // Each second is in before the next is sent: the watermark is known, no event is late.
    ASSERT_TRUE(waitCounted(daemon, "sub_in", sub_sent)) << "second " << second;
    ASSERT_TRUE(waitCounted(daemon, "pull_in", pull_sent)) << "second " << second;
  }

  const std::size_t finals = sub_feed.reference().countFired(TradeFeed::kFarFuture) +
                             pull_feed.reference().countFired(TradeFeed::kFarFuture);
  ASSERT_TRUE(subscriber.receiveUntil(
      [&](const std::vector<Message>& scraped) { return countResults(scraped) >= finals; }, 30s))
      << countResults(subscriber.messages()) << " of " << finals << " results";
  Metrics metrics;
  ASSERT_TRUE(waitCounted(daemon, "sub_in", sub_sent, &metrics));
  // Messages from one publisher arrive in order: had a quotes/ or one-frame message got
  // through, it would have been counted before the last trades/ message was.
  expectSourceCounters(metrics, "sub_in", sub_feed.accepted(), sub_errors);
  expectSourceCounters(metrics, "pull_in", pull_feed.accepted(), pull_errors);
  const std::vector<Result> results = parseResults(subscriber.messages());
  sub_feed.expectFinalsMatch(results);
  pull_feed.expectFinalsMatch(results);
  expectSeqWithoutGaps(results);

  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  EXPECT_EQ(daemon.process().wait(30s), 0);
}

}  // namespace
}  // namespace rivulet::testutil
