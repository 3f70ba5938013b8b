// Window-close latency: from the send of the event that closes a window (the first whose event
// time reaches the window's end; watermark delay 0) over tcp to a ZeroMQ subscriber's receipt of
// that window's end-of-window marker, which the publisher sends after the window's results. Events
// go at a steady rate to the engine's tcp source (in this process: source, stages, publisher),
// one pipeline counting and summing 100 keys in 50 ms tumbling windows, its event time the
// sender's clock. Next to it, in the same run, the floor of the same path: a bare relay that
// reads the same tcp stream and publishes a marker on a ZeroMQ PUB socket as soon as an event
// crosses a window's end. rivulet runs twice, parking as by default and with daemon.idle_spin
// (SPIN, default 1ms). The three alternate per run; each figure is over every window of every
// run: p50, p99, p999 and the maximum, and the CPU the whole process used (cores: CPU seconds per
// second, the sender and subscriber included, the same for all three).
//
// usage: window_latency [SECONDS] [RUNS] [SPIN] [RATES...]
//        (defaults 5, 3, 1ms and 10000 100000 1000000)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "config/loader.h"
#include "daemon/engine.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kWindowMs = 50;
constexpr int kKeys = 100;
constexpr std::int64_t kBaseMs = 1'700'000'000'000;

std::int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// A loopback port nothing listens on now (bound to port 0, then released).
int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("no free port");
  ::close(fd);
  return ntohs(addr.sin_port);
}

int connectTo(int port) {
  for (int attempt = 0; attempt < 500; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return fd;
    }
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("cannot connect to port " + std::to_string(port));
}

// Send times of each window's closing event, by window number (its end, in windows since the
// start): written by the sender, read by the subscriber once the window's marker arrived.
struct Closings {
  explicit Closings(std::size_t windows) : sent(windows + 2) {}
  std::vector<std::atomic<std::int64_t>> sent;
};

// Sends `rate` events/s for `seconds` in 1 ms batches (one write each), event time the elapsed
// time since the start in ms; notes when each window's first event past its end went out.
void send(int fd, int rate, int seconds, Closings& closings) {
  const std::int64_t start = nowNs();
  const std::int64_t total = static_cast<std::int64_t>(rate) * seconds;
  std::int64_t sent = 0;
  std::int64_t last_ms = -1;
  std::string batch;
  char line[96];
  while (sent < total) {
    const std::int64_t elapsed = nowNs() - start;
    const std::int64_t due = std::min(total, elapsed * rate / 1'000'000'000);
    const std::int64_t ms = elapsed / 1'000'000;
    batch.clear();
    for (; sent < due; ++sent) {
      const int n = std::snprintf(line, sizeof line, "{\"ts\":%lld,\"key\":\"k%d\",\"v\":%d}\n",
                                  static_cast<long long>(kBaseMs + ms),
                                  static_cast<int>(sent % kKeys), static_cast<int>(sent % 97));
      batch.append(line, static_cast<std::size_t>(n));
    }
    // The first event at or past a window's end closes the windows before it.
    const bool closes = !batch.empty() && ms / kWindowMs > last_ms / kWindowMs && last_ms >= 0;
    if (!batch.empty()) last_ms = ms;
    std::size_t off = 0;
    while (off < batch.size()) {
      const ssize_t n = ::write(fd, batch.data() + off, batch.size() - off);
      if (n <= 0) throw std::runtime_error("send failed");
      off += static_cast<std::size_t>(n);
    }
    if (closes) {
      const auto window = static_cast<std::size_t>(ms / kWindowMs);  // the window it opens
      if (window < closings.sent.size()) {
        closings.sent[window - 1].store(nowNs(), std::memory_order_release);
      }
    }
    // Next batch in ~1 ms (a short sleep; the rate is kept by `due`).
    std::this_thread::sleep_for(std::chrono::microseconds(900));
  }
}

// Receives markers until `windows` were seen or `deadline`; each marker's latency is its
// receipt minus its window's closing send.
std::vector<double> receive(zmq::socket_t& sub, std::size_t windows, Closings& closings,
                            Clock::time_point deadline) {
  std::vector<double> latencies;
  sub.set(zmq::sockopt::rcvtimeo, 100);
  while (latencies.size() < windows && Clock::now() < deadline) {
    zmq::message_t topic, payload;
    if (!sub.recv(topic)) continue;
    const std::int64_t received = nowNs();
    (void)sub.recv(payload);
    const std::string_view text(static_cast<const char*>(payload.data()), payload.size());
    const std::size_t at = text.find("\"end\":");
    if (at == std::string_view::npos) continue;
    std::int64_t end = 0;
    std::from_chars(text.data() + at + 6, text.data() + text.size(), end);
    const auto window = static_cast<std::size_t>((end - kBaseMs) / kWindowMs) - 1;
    if (window >= closings.sent.size()) continue;
    const std::int64_t sent = closings.sent[window].load(std::memory_order_acquire);
    if (sent == 0) continue;  // closed by the end of the stream, not by an event
    latencies.push_back(static_cast<double>(received - sent) / 1e6);
  }
  return latencies;
}

// Sends `rate` events/s for `seconds` to `port` and returns each window's latency as `sub` sees
// its marker.
std::vector<double> measure(int port, zmq::socket_t& sub, int rate, int seconds) {
  const std::size_t windows = static_cast<std::size_t>(seconds) * 1000 / kWindowMs;
  Closings closings(windows);
  const int fd = connectTo(port);
  // The subscription must reach the publisher before the first window closes.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::thread sender([&] { send(fd, rate, seconds, closings); });
  const std::vector<double> latencies =
      receive(sub, windows - 1, closings, Clock::now() + std::chrono::seconds(seconds + 10));
  sender.join();
  ::close(fd);
  return latencies;
}

// rivulet: the engine with a tcp source; the subscriber on its result socket. `spin`: the
// daemon.idle_spin duration.
std::vector<double> rivuletRun(int rate, int seconds, const std::string& spin) {
  const int port = freePort();
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(freePort());
  const std::string yaml = "daemon:\n  metrics: 127.0.0.1:0\n  publish: " + endpoint +
                           "\n  idle_spin: " + spin +
                           "\n  log_level: warn\nsources:\n  events:\n    kind: tcp\n"
                           "    listen: 127.0.0.1:" +
                           std::to_string(port) +
                           "\n    time: {field: ts, unit: ms}\n    watermark: {delay: 0s}\n"
                           "pipelines:\n  counts:\n    from: events\n    group_by: [key]\n"
                           "    window: {tumbling: 50ms}\n    aggregates:\n      n: count()\n"
                           "      total: sum(v)\n";
  const rivulet::config::LoadResult loaded = rivulet::config::loadString(yaml, "bench.yaml");
  if (!loaded.config) throw std::runtime_error("bench config: " + loaded.errors[0].toString());
  rivulet::daemon::Engine engine(*loaded.config);
  engine.start();
  zmq::context_t context;
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "_window/counts/");
  sub.connect(endpoint);
  const std::vector<double> latencies = measure(port, sub, rate, seconds);
  engine.requestStop();
  engine.join();
  return latencies;
}

// The floor: read the tcp stream, publish a marker as soon as an event crosses a window's end.
std::vector<double> relayRun(int rate, int seconds) {
  zmq::context_t context;
  zmq::socket_t pub(context, zmq::socket_type::pub);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(freePort());
  pub.bind(endpoint);
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "_window/");
  sub.connect(endpoint);
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  ::listen(listener, 1);
  const int port = ntohs(addr.sin_port);
  std::atomic<bool> done{false};
  std::thread relay([&] {
    const int fd = ::accept(listener, nullptr, nullptr);
    std::string pending;
    char buffer[65536];
    std::int64_t window = -1;
    while (!done.load(std::memory_order_relaxed)) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      pending.append(buffer, static_cast<std::size_t>(n));
      std::size_t line = 0;
      for (std::size_t eol; (eol = pending.find('\n', line)) != std::string::npos; line = eol + 1) {
        std::int64_t ts = 0;
        std::from_chars(pending.data() + line + 6, pending.data() + eol, ts);
        const std::int64_t w = (ts - kBaseMs) / kWindowMs;
        if (w > window) {
          if (window >= 0) {
            const std::string marker = "{\"end\":" + std::to_string(kBaseMs + w * kWindowMs) + "}";
            pub.send(zmq::buffer(std::string_view("_window/relay/")), zmq::send_flags::sndmore);
            pub.send(zmq::buffer(marker), zmq::send_flags::none);
          }
          window = w;
        }
      }
      pending.erase(0, line);
    }
    ::close(fd);
  });
  const std::vector<double> latencies = measure(port, sub, rate, seconds);
  done.store(true);
  relay.join();
  ::close(listener);
  return latencies;
}

// CPU seconds the process has used (every thread).
double cpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct Percentiles {
  double p50, p99, p999, max;
  std::size_t n;
};
Percentiles percentiles(std::vector<double> v) {
  if (v.empty()) return {0, 0, 0, 0, 0};
  std::sort(v.begin(), v.end());
  const auto at = [&](double q) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
  };
  return {at(0.5), at(0.99), at(0.999), v.back(), v.size()};
}

}  // namespace

// One system's windows over every run at one rate, and the cores it kept busy.
struct Series {
  std::vector<double> latencies;
  double cpu = 0;   // CPU seconds
  double wall = 0;  // seconds
  template <typename Run>
  void add(Run run) {
    const double cpu_before = cpuSeconds();
    const auto wall_before = Clock::now();
    const std::vector<double> more = run();
    cpu += cpuSeconds() - cpu_before;
    wall += std::chrono::duration<double>(Clock::now() - wall_before).count();
    latencies.insert(latencies.end(), more.begin(), more.end());
  }
  void print(int rate, const char* name) const {
    const Percentiles p = percentiles(latencies);
    std::printf("%8d ev/s  %-28s p50 %.3f p99 %.3f p999 %.3f max %.3f (%zu windows), %.2f cores\n",
                rate, name, p.p50, p.p99, p.p999, p.max, p.n, wall > 0 ? cpu / wall : 0);
  }
};

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 5;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  const std::string spin = argc > 3 ? argv[3] : "1ms";
  std::vector<int> rates;
  for (int i = 4; i < argc; ++i) rates.push_back(std::atoi(argv[i]));
  if (rates.empty()) rates = {10'000, 100'000, 1'000'000};
  std::printf(
      "window close to marker at a subscriber, 50 ms windows, %d keys, delay 0; %d s x %d "
      "runs per rate, alternating; ms\n",
      kKeys, seconds, runs);
  const std::string spinning = "rivulet, idle_spin " + spin + ":";
  for (const int rate : rates) {
    Series relay, parking, spinning_series;
    for (int r = 0; r < runs; ++r) {
      relay.add([&] { return relayRun(rate, seconds); });
      parking.add([&] { return rivuletRun(rate, seconds, "0s"); });
      spinning_series.add([&] { return rivuletRun(rate, seconds, spin); });
    }
    relay.print(rate, "floor (tcp -> zmq relay):");
    parking.print(rate, "rivulet:");
    spinning_series.print(rate, spinning.c_str());
  }
}
