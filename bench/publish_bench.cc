// publish_bench: what CURVE costs the result socket. The daemon's own ZmqOutput publishes
// results (a 24-byte topic, a 160-byte JSON payload, as a window close sends them) over tcp://
// on loopback to one SUB that counts them on another thread; once in the clear, once with
// daemon.publish_curve (the subscriber's key listed). items_per_second is results delivered.
#include <benchmark/benchmark.h>
#include <zmq.h>

#include <atomic>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "connectors/zmq/zmq_output.h"

namespace rivulet::connectors {
namespace {

constexpr int kPerIteration = 100'000;
constexpr int kHwm = 1'000'000;  // above kPerIteration: nothing is dropped, every result counts

const std::string kTopic = "volume_1m/AAPL/18/      ";
const std::string kPayload(160, 'x');

struct KeyPair {
  KeyPair() {
    char pub[41], sec[41];
    zmq_curve_keypair(pub, sec);
    public_key = pub;
    secret_key = sec;
  }
  std::string public_key, secret_key;
};

void publish(benchmark::State& state, bool curve) {
  const KeyPair server, client;
  config::CurveSpec spec;
  spec.secret_key = server.secret_key;
  spec.public_key = server.public_key;
  spec.clients = {client.public_key};

  zmq::context_t context(1);
  pipeline::PublisherStats stats;
  ZmqOutput output(context, {"tcp://127.0.0.1:*"}, kHwm, curve ? &spec : nullptr, stats);

  zmq::context_t sub_context(1);
  zmq::socket_t sub(sub_context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::rcvhwm, kHwm);
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::rcvtimeo, 100);
  if (curve) {
    sub.set(zmq::sockopt::curve_serverkey, server.public_key);
    sub.set(zmq::sockopt::curve_publickey, client.public_key);
    sub.set(zmq::sockopt::curve_secretkey, client.secret_key);
  }
  sub.set(zmq::sockopt::subscribe, "");
  sub.connect(output.endpoints().front());

  std::atomic<std::int64_t> received{0};
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    zmq::message_t frame;
    while (!stop.load(std::memory_order_relaxed)) {
      if (!sub.recv(frame)) continue;
      if (!frame.more()) received.fetch_add(1, std::memory_order_relaxed);
    }
  });

  // The subscription is in once a probe gets through (bounded: 10 s).
  for (int i = 0; i < 1000 && received.load() == 0; ++i) {
    output.idle();
    output.send(kTopic, kPayload);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (received.load() == 0) state.SkipWithError("the subscriber never connected");

  std::int64_t target = received.load();
  for (auto _ : state) {
    target += kPerIteration;
    for (int i = 0; i < kPerIteration; ++i) output.send(kTopic, kPayload);
    // Bounded: a stuck subscriber ends the run as an error, not a hang.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (received.load(std::memory_order_relaxed) < target) {
      if (std::chrono::steady_clock::now() > deadline) {
        state.SkipWithError("results did not all arrive");
        break;
      }
      output.idle();
      std::this_thread::yield();
    }
  }
  state.SetItemsProcessed(state.iterations() * kPerIteration);
  state.SetBytesProcessed(state.iterations() * kPerIteration *
                          static_cast<std::int64_t>(kTopic.size() + kPayload.size()));
  stop = true;
  reader.join();
}

void BM_Publish_Plain(benchmark::State& state) { publish(state, false); }
void BM_Publish_Curve(benchmark::State& state) { publish(state, true); }

BENCHMARK(BM_Publish_Plain)->Repetitions(5)->DisplayAggregatesOnly(true)->UseRealTime();
BENCHMARK(BM_Publish_Curve)->Repetitions(5)->DisplayAggregatesOnly(true)->UseRealTime();

}  // namespace
}  // namespace rivulet::connectors

BENCHMARK_MAIN();
