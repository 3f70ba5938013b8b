// Ingest throughput of the udp and zmq sources: events per second through source -> router ->
// stage (recvmmsg or zmq_recv, simdjson or CSV parsing, projection into records, a window
// operator keeping count and sum per key), next to bare receive loops that only count what
// arrives. Small events (~50 bytes), loopback only. How to run it: bench/README.md.
//
// UDP: on loopback the sender's system calls do the kernel's whole receive path, so a live
// sender mostly measures itself. The datagrams are therefore queued first, in a socket buffer
// large enough for all of them (SO_RCVBUFFORCE: needs CAP_NET_ADMIN), and the receiver is timed
// draining it. "lost" is the share the buffer could not hold (0 when run as root).
// ZeroMQ: a live PUSH -> PULL over tcp:// in the same process; PUSH blocks when the receiver
// falls behind, so nothing is lost and the time is the sender's start to the last event taken.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "config/config.h"
#include "connectors/make_source.h"
#include "connectors/sources/udp_source.h"
#include "connectors/zmq/zmq_source.h"
#include "pipeline/aggregates/aggregate.h"
#include "pipeline/event_router.h"
#include "pipeline/model/plan.h"
#include "pipeline/stage.h"

namespace rivulet::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Events per benchmark iteration.
constexpr int kUdpEvents = 200'000;
constexpr int kZmqEvents = 400'000;
// A receiver that has taken nothing for this long after the sender finished is done.
constexpr auto kQuiet = std::chrono::milliseconds(100);
// Datagrams per sendmmsg call.
constexpr unsigned kSendBatch = 64;
// Asked for the UDP sockets: room for every datagram of an iteration (~1 KiB each in the kernel's
// accounting). Granted in full with CAP_NET_ADMIN, else up to net.core.rmem_max.
constexpr int kRcvbuf = 1 << 29;
constexpr int kKeys = 100;

// The i-th event: ~50 bytes, one of kKeys keys, all in one second of event time.
std::string jsonEvent(int i) {
  return "{\"ts\":" + std::to_string(1'700'000'000'000 + i % 1000) + ",\"key\":\"k" +
         std::to_string(i % kKeys) + "\",\"value\":" + std::to_string(i % 997) + ".25}";
}
std::string csvEvent(int i) {
  return std::to_string(1'700'000'000'000 + i % 1000) + ",k" + std::to_string(i % kKeys) + "," +
         std::to_string(i % 997) + ".25";
}

// ---- senders ----

// Blasts `events` datagrams at 127.0.0.1:port with sendmmsg, kSendBatch per call.
void sendUdp(std::uint16_t port, const std::vector<std::string>& events) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  std::vector<mmsghdr> headers(kSendBatch);
  std::vector<iovec> iovecs(kSendBatch);
  for (std::size_t sent = 0; sent < events.size();) {
    const unsigned n =
        static_cast<unsigned>(std::min<std::size_t>(kSendBatch, events.size() - sent));
    for (unsigned i = 0; i < n; ++i) {
      const std::string& e = events[sent + i];
      iovecs[i] = iovec{const_cast<char*>(e.data()), e.size()};
      headers[i] = mmsghdr{};
      headers[i].msg_hdr.msg_iov = &iovecs[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
    const int done = ::sendmmsg(fd, headers.data(), n, 0);
    if (done > 0) sent += static_cast<std::size_t>(done);
  }
  ::close(fd);
}

void sendZmq(zmq::context_t& context, const std::string& endpoint,
             const std::vector<std::string>& events) {
  zmq::socket_t push(context, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 5000);
  push.connect(endpoint);
  for (const std::string& e : events) push.send(zmq::buffer(e), zmq::send_flags::none);
}

// ---- what a run measured ----

struct Run {
  std::uint64_t taken = 0;           // events the receiver took
  std::chrono::nanoseconds busy{0};  // from the sender's start to the last event taken
};

void report(benchmark::State& state, const Run& run, std::uint64_t sent) {
  state.SetIterationTime(std::chrono::duration<double>(run.busy).count());
  state.counters["events_per_s"] = benchmark::Counter(
      static_cast<double>(run.taken) / std::chrono::duration<double>(run.busy).count());
  state.counters["lost"] =
      static_cast<double>(sent - run.taken) / static_cast<double>(sent);  // share of those sent
}

// Polls `taken()` until it reaches `want` or stays still for kQuiet after `sender_done`; the
// time of its last change is the end of the run.
template <typename Taken>
Run watch(Clock::time_point start, std::uint64_t want, const std::atomic<bool>& sender_done,
          Taken&& taken) {
  Run run;
  Clock::time_point last_change = start;
  for (;;) {
    const std::uint64_t now_taken = taken();
    const Clock::time_point now = Clock::now();
    if (now_taken != run.taken) {
      run.taken = now_taken;
      last_change = now;
    }
    if (run.taken >= want) break;
    if (sender_done.load(std::memory_order_acquire) && now - last_change > kQuiet) break;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  run.busy = last_change - start;
  return run;
}

// ---- the chain: source -> router -> stage ----

config::Config chainConfig(config::SourceKind kind, config::Format format) {
  config::Config config;
  config::SourceConfig source;
  source.name = "in";
  source.kind = kind;
  source.format = format;
  if (format == config::Format::kCsv) source.csv.columns = {"ts", "key", "value"};
  source.time = config::TimeSpec{"ts", config::TimeUnit::kMillis};
  source.udp.listen = config::Endpoint{"127.0.0.1", 0};
  source.udp.rcvbuf = kRcvbuf;
  source.udp.max_datagram = 1500;
  source.zmq.socket = config::ZmqSocketType::kPull;
  source.zmq.endpoint = "tcp://127.0.0.1:*";
  source.zmq.bind = true;
  config.sources.push_back(source);
  config::PipelineConfig p;
  p.name = "per_key";
  p.from = {"in"};
  p.group_by = {config::GroupBySpec{"key"}};
  p.window = config::WindowSpec{config::WindowKind::kTumbling, 1'000'000'000, 1'000'000'000};
  p.aggregates = {config::AggregateSpec{"n", config::AggregateKind::kCount, ""},
                  config::AggregateSpec{"total", config::AggregateKind::kSum, "value"}};
  config.pipelines.push_back(p);
  return config;
}

// One source feeding one stage, each on its own thread, as the daemon runs them.
class Chain {
 public:
  explicit Chain(const config::Config& config)
      : plans_{pipeline::compilePipeline(config, 0)},
        input_(std::make_unique<pipeline::Ring>((4 << 20) / sizeof(pipeline::Cell))),
        output_(std::make_unique<pipeline::Ring>((1 << 20) / sizeof(pipeline::Cell))) {
    aggregates_.emplace_back(plans_[0].aggregates, plans_[0].value_index);
    stage_ = std::make_unique<pipeline::Stage>(plans_, aggregates_,
                                               std::vector<pipeline::Ring*>{input_.get()}, *output_,
                                               std::vector{&stage_stats_}, &bell_);
    pipeline::EventRouter router(pipeline::planSource(config, 0, plans_), {input_.get()},
                                 source_stats_, {&stage_->doorbell()});
    source_ = connectors::makeSource(config.sources[0], std::move(router));
    stage_thread_ = std::thread([this] { stage_->run(); });
  }
  ~Chain() {
    if (!source_thread_.joinable()) start();  // the source's end of stream ends the stage
    source_thread_.request_stop();
    source_thread_.join();
    stage_thread_.join();  // the source's end of stream ends the stage
  }

  // Starts the source's thread: it begins to read.
  void start() {
    source_thread_ = std::jthread([this](std::stop_token stop) { source_->run(stop); });
  }
  connectors::Source& source() { return *source_; }
  // Events the stage has added to its windows.
  std::uint64_t taken() const { return stage_stats_.events.load(std::memory_order_relaxed); }

 private:
  std::vector<pipeline::PipelinePlan> plans_;
  std::vector<pipeline::Aggregates> aggregates_;
  std::unique_ptr<pipeline::Ring> input_;
  std::unique_ptr<pipeline::Ring> output_;
  pipeline::SourceStats source_stats_;
  pipeline::PipelineStageStats stage_stats_;
  pipeline::Doorbell bell_;
  std::unique_ptr<pipeline::Stage> stage_;
  std::unique_ptr<connectors::Source> source_;
  std::thread stage_thread_;
  std::jthread source_thread_;
};

std::vector<std::string> events(int n, bool csv) {
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(csv ? csvEvent(i) : jsonEvent(i));
  return out;
}

// ---- UDP ----

// A bound UDP socket on 127.0.0.1 with a large receive buffer and a 20 ms receive timeout.
int udpSocket(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error("bind");
  }
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &kRcvbuf, sizeof kRcvbuf) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kRcvbuf, sizeof kRcvbuf);
  }
  const timeval wait{0, 20'000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  socklen_t size = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  port = ntohs(address.sin_port);
  return fd;
}

// Queues `sent` on the socket at `port`, then times `drain` (started on its own thread) until it
// has taken them all or stays still for kQuiet.
template <typename Drain, typename Taken>
void timeDrain(benchmark::State& state, std::uint16_t port, const std::vector<std::string>& sent,
               Drain&& drain, Taken&& taken) {
  sendUdp(port, sent);
  const std::atomic<bool> all_sent{true};
  const Clock::time_point start = Clock::now();
  drain();
  report(state, watch(start, sent.size(), all_sent, taken), sent.size());
}

// Baseline: the naive loop, one recv system call per datagram, that only counts.
void BM_Udp_RecvPerDatagramCountOnly(benchmark::State& state) {
  const std::vector<std::string> sent = events(kUdpEvents, false);
  for (auto _ : state) {
    std::uint16_t port = 0;
    const int fd = udpSocket(port);
    std::atomic<std::uint64_t> taken{0};
    std::atomic<bool> stop{false};
    std::thread receiver;
    timeDrain(
        state, port, sent,
        [&] {
          receiver = std::thread([&] {
            char buffer[2048];
            std::uint64_t n = 0;
            while (!stop.load(std::memory_order_relaxed)) {
              // Counted every 64, as the batched loop does, so both pay alike for counting.
              if (::recv(fd, buffer, sizeof buffer, 0) >= 0 && ++n % 64 != 0) continue;
              taken.store(n, std::memory_order_relaxed);
            }
          });
        },
        [&] { return taken.load(); });
    stop = true;
    receiver.join();
    ::close(fd);
  }
}

// Baseline: a recvmmsg loop (64 datagrams per call, as the source takes them) that only counts.
void BM_Udp_RecvmmsgCountOnly(benchmark::State& state) {
  const std::vector<std::string> sent = events(kUdpEvents, false);
  for (auto _ : state) {
    std::uint16_t port = 0;
    const int fd = udpSocket(port);
    std::atomic<std::uint64_t> taken{0};
    std::atomic<bool> stop{false};
    std::thread receiver;
    timeDrain(
        state, port, sent,
        [&] {
          receiver = std::thread([&] {
            constexpr unsigned kBatch = connectors::UdpSource::kBatch;
            std::vector<char> buffers(kBatch * 2048);
            std::vector<mmsghdr> headers(kBatch);
            std::vector<iovec> iovecs(kBatch);
            for (unsigned i = 0; i < kBatch; ++i) {
              iovecs[i] = iovec{&buffers[i * 2048], 2048};
              headers[i].msg_hdr.msg_iov = &iovecs[i];
              headers[i].msg_hdr.msg_iovlen = 1;
            }
            while (!stop.load(std::memory_order_relaxed)) {
              const int n = ::recvmmsg(fd, headers.data(), kBatch, MSG_WAITFORONE, nullptr);
              if (n > 0) taken.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
            }
          });
        },
        [&] { return taken.load(); });
    stop = true;
    receiver.join();
    ::close(fd);
  }
}

// The udp source, JSON or CSV, into a stage.
void udpChain(benchmark::State& state, bool csv) {
  const std::vector<std::string> sent = events(kUdpEvents, csv);
  const config::Config config =
      chainConfig(config::SourceKind::kUdp, csv ? config::Format::kCsv : config::Format::kJson);
  for (auto _ : state) {
    Chain chain(config);
    const std::uint16_t port = static_cast<connectors::UdpSource&>(chain.source()).port();
    timeDrain(
        state, port, sent, [&] { chain.start(); }, [&] { return chain.taken(); });
  }
}
void BM_Udp_SourceToStage_Json(benchmark::State& state) { udpChain(state, false); }
void BM_Udp_SourceToStage_Csv(benchmark::State& state) { udpChain(state, true); }

// ---- ZeroMQ ----

// Baseline: a PULL socket and a zmq_recv loop that only counts (copying each message out, as the
// source does).
void BM_Zmq_RecvCountOnly(benchmark::State& state) {
  const std::vector<std::string> sent = events(kZmqEvents, false);
  for (auto _ : state) {
    zmq::context_t context(1);
    zmq::socket_t pull(context, zmq::socket_type::pull);
    pull.set(zmq::sockopt::rcvhwm, 100'000);
    pull.set(zmq::sockopt::linger, 0);
    pull.bind("tcp://127.0.0.1:*");
    const std::string endpoint = pull.get(zmq::sockopt::last_endpoint);
    std::atomic<std::uint64_t> taken{0};
    std::atomic<bool> sender_done{false};
    const Clock::time_point start = Clock::now();
    std::thread sender([&] {
      sendZmq(context, endpoint, sent);
      sender_done.store(true, std::memory_order_release);
    });
    std::thread receiver([&] {
      char buffer[2048];
      std::uint64_t n = 0;
      while (n < sent.size()) {
        if (zmq_recv(pull.handle(), buffer, sizeof buffer, 0) < 0) break;
        if (++n % 64 == 0 || n == sent.size()) taken.store(n, std::memory_order_relaxed);
      }
    });
    const Run run = watch(start, sent.size(), sender_done, [&] { return taken.load(); });
    receiver.join();
    sender.join();
    report(state, run, sent.size());
  }
}

void BM_Zmq_SourceToStage_Json(benchmark::State& state) {
  const std::vector<std::string> sent = events(kZmqEvents, false);
  const config::Config config = chainConfig(config::SourceKind::kZmq, config::Format::kJson);
  for (auto _ : state) {
    Chain chain(config);
    chain.start();
    const std::string endpoint = static_cast<connectors::ZmqSource&>(chain.source()).endpoint();
    zmq::context_t context(1);
    std::atomic<bool> sender_done{false};
    const Clock::time_point start = Clock::now();
    std::thread sender([&] {
      sendZmq(context, endpoint, sent);
      sender_done.store(true, std::memory_order_release);
    });
    const Run run = watch(start, sent.size(), sender_done, [&] { return chain.taken(); });
    sender.join();
    report(state, run, sent.size());
  }
}

// Each benchmark is one iteration (one batch of events) per repetition, timed by hand: the
// time from the sender's start to the last event taken.
#define RIVULET_INGEST_BENCH(name) \
  BENCHMARK(name)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond)

RIVULET_INGEST_BENCH(BM_Udp_RecvPerDatagramCountOnly);
RIVULET_INGEST_BENCH(BM_Udp_RecvmmsgCountOnly);
RIVULET_INGEST_BENCH(BM_Udp_SourceToStage_Json);
RIVULET_INGEST_BENCH(BM_Udp_SourceToStage_Csv);
RIVULET_INGEST_BENCH(BM_Zmq_RecvCountOnly);
RIVULET_INGEST_BENCH(BM_Zmq_SourceToStage_Json);

// "model name" from /proc/cpuinfo: Google Benchmark prints the cpu count and caches only.
std::string cpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

}  // namespace
}  // namespace rivulet::bench

int main(int argc, char** argv) {
  // Five repetitions, aggregates only, unless the command line says otherwise.
  std::vector<char*> args(argv, argv + argc);
  std::string repetitions = "--benchmark_repetitions=5";
  std::string aggregates = "--benchmark_report_aggregates_only=true";
  args.insert(args.begin() + 1, {repetitions.data(), aggregates.data()});
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  benchmark::AddCustomContext("cpu_model", rivulet::bench::cpuModel());
  benchmark::AddCustomContext("udp_events_per_iteration",
                              std::to_string(rivulet::bench::kUdpEvents));
  benchmark::AddCustomContext("zmq_events_per_iteration",
                              std::to_string(rivulet::bench::kZmqEvents));
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
