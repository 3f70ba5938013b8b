// Soak: the real daemon under every kind of load at once for RIVULET_SOAK_SECONDS (default 60,
// 20 under AddressSanitizer): a generator of 1,000,000 keys at full speed, tcp clients and udp
// senders at full speed mixing malformed input with good, a subscriber that reads slowly and one
// that is stopped (SIGSTOP), and a small publish_hwm. Throughout, every ~250 ms: /metrics answers,
// the resident set stays under the bound docs/operations.md ("Memory and overload") derives from
// the config, and no engine thread's heartbeat is older than the watchdog's limit. Then the daemon
// stops cleanly and its final counts (logged once every thread is joined) must add up, per source
// and per pipeline; every datagram sent was either read or counted as dropped by the kernel.
//
// Nothing here asserts a speed: the load is whatever this machine manages. Every load loop is
// bounded in count and in time. The numbers measured are printed at the end.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "tests/integration/harness.h"
#include "tests/integration/harness/feed.h"

namespace rivulet::testutil {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif

// ---- the configuration, and the memory bound docs/operations.md derives from it ----

constexpr std::int64_t kGenKeys = 1'000'000;
constexpr std::int64_t kGenMaxKeys = 100'000;  // a 1 s window holds ~630,000 of the keys
constexpr std::int64_t kLineKeys = 50'000;     // syms the tcp and udp inputs use
constexpr std::int64_t kLineMaxKeys = 10'000;
constexpr std::int64_t kHwm = 20'000;  // below the 100,000 results one generator window closes
constexpr int kMaxLine = 256;
constexpr int kMaxDatagram = 256;
constexpr int kMaxConnections = 8;
constexpr int kStages = 1;
constexpr int kSources = 3;
constexpr int kSubscribers = 2;  // the slow one and the stopped one
constexpr int kTcpClients = 3;
constexpr int kUdpSenders = 2;
// Each load thread stops at the deadline or after this many lines or datagrams.
constexpr std::int64_t kMaxPerSender = 500'000'000;
// The watchdog's limit with no WatchdogSec (docs/operations.md, The watchdog).
constexpr double kStallSeconds = 10;

std::string configYaml() {
  const auto n = [](std::int64_t v) { return std::to_string(v); };
  const std::string pipeline_tail =
      "    window: {tumbling: 1s}\n"
      "    aggregates: {n: count(), total: sum(px)}\n";
  return "daemon:\n"
         "  metrics: 127.0.0.1:0\n"
         "  publish: tcp://127.0.0.1:0\n"
         "  publish_hwm: " +
         n(kHwm) + "\n  stages: " + n(kStages) +
         "\n"
         "sources:\n"
         "  gen:\n"
         "    kind: generator\n"
         "    keys: " +
         n(kGenKeys) +
         "\n"
         "    events_per_second: 1000000\n"  // event time; unthrottled: as fast as it goes
         "  lines:\n"
         "    kind: tcp\n"
         "    listen: 127.0.0.1:0\n"
         "    max_line: " +
         n(kMaxLine) + "\n    max_connections: " + n(kMaxConnections) +
         "\n"
         "    time: {field: ts, unit: ms}\n"
         "  packets:\n"
         "    kind: udp\n"
         "    listen: 127.0.0.1:0\n"
         "    max_datagram: " +
         n(kMaxDatagram) +
         "\n"
         "    time: {field: ts, unit: ms}\n"
         "pipelines:\n"
         "  gen_keys:\n"
         "    from: gen\n"
         "    group_by: [key]\n"
         "    max_keys: " +
         n(kGenMaxKeys) +
         "\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates: {n: count(), total: sum(value)}\n"
         "  line_syms:\n"
         "    from: lines\n"
         "    group_by: [sym]\n"
         "    max_keys: " +
         n(kLineMaxKeys) + "\n" + pipeline_tail +
         "  packet_syms:\n"
         "    from: packets\n"
         "    group_by: [sym]\n"
         "    max_keys: " +
         n(kLineMaxKeys) + "\n" + pipeline_tail;
}

constexpr double kMiB = 1024.0 * 1024.0;

// The bound of docs/operations.md, "Memory and overload", term by term for this config.
struct MemoryBound {
  double process = 64 * kMiB;                                // code, libraries, stacks, allocator
  double rings = 4 * kMiB * (kSources * kStages + kStages);  // source→stage, stage→publisher
  // max_keys × live slices (tumbling, no delay or lateness: 2) × 256 bytes, per pipeline.
  double windows = static_cast<double>(kGenMaxKeys + 2 * kLineMaxKeys) * 2 * 256;
  double results = static_cast<double>(kHwm) * kSubscribers * 512;  // queued per subscriber
  double sources = 64.0 * (kMaxDatagram + 64) + kMaxConnections * 2.0 * (kMaxLine + 64 * 1024);
  double total() const { return process + rings + windows + results + sources; }
};

int soakSeconds() {
  if (const char* env = std::getenv("RIVULET_SOAK_SECONDS"); env != nullptr && std::atoi(env) > 0)
    return std::atoi(env);
  // ASan runs several times slower and CI runs the whole suite under it: keep well inside ctest's
  // 300 s TIMEOUT with the drain and the stop.
  return kAsan ? 20 : 60;
}

// ---- load ----

// What one load thread sent (successfully), by the reason the daemon must count it under ("" for
// good input).
struct Sent {
  std::map<std::string, std::int64_t> by_reason;
  std::int64_t total() const {
    std::int64_t n = 0;
    for (const auto& [reason, count] : by_reason) n += count;
    return n;
  }
  void add(const Sent& other) {
    for (const auto& [reason, count] : other.by_reason) by_reason[reason] += count;
  }
};

std::int64_t wallMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Input number i: good mostly, every 50th invalid JSON, every 50th a missing sym, every 100th
// too long (over max_line, or over max_datagram: `too_long` is the reason for that).
std::string input(std::int64_t i, std::int64_t ts, std::mt19937_64& rng, const char* too_long,
                  std::string& reason) {
  const std::string t = std::to_string(ts);
  switch (i % 100) {
    case 7:
    case 57:
      reason = "invalid_json";
      return "{\"ts\":" + t + ",\"sym\":\"s1\",\"px\":";
    case 19:
    case 69:
      reason = "missing_field";
      return "{\"ts\":" + t + ",\"px\":1.5}";
    case 33:
      reason = too_long;
      return "{\"ts\":" + t + ",\"sym\":\"" + std::string(kMaxLine + 100, 'L') + "\",\"px\":1}";
    default:
      reason = "";
      return "{\"ts\":" + t + ",\"sym\":\"s" + std::to_string(rng() % kLineKeys) +
             "\",\"px\":" + std::to_string(rng() % 1000) + ".25}";
  }
}

// A tcp client: lines in chunks of 512, until the deadline or kMaxPerSender.
void tcpClient(int port, Clock::time_point deadline, std::uint64_t seed, Sent& sent,
               std::string& error) {
  try {
    TcpClient client(port);
    std::mt19937_64 rng(seed);
    std::int64_t i = 0;
    while (i < kMaxPerSender && Clock::now() < deadline) {
      Sent chunk_sent;
      std::string chunk;
      const std::int64_t ts = wallMs();
      for (int k = 0; k < 512; ++k, ++i) {
        std::string reason;
        chunk += input(i, ts, rng, "line_too_long", reason) + "\n";
        ++chunk_sent.by_reason[reason];
      }
      if (!client.send(chunk)) {
        error = "tcp send failed: " + std::string(std::strerror(errno));
        return;
      }
      sent.add(chunk_sent);
    }
  } catch (const std::exception& e) {
    error = e.what();
  }
}

// A udp sender: one datagram per input, until the deadline or kMaxPerSender. Only datagrams
// sendto() took are counted as sent.
void udpSender(int port, Clock::time_point deadline, std::uint64_t seed, Sent& sent,
               std::string& error) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::mt19937_64 rng(seed);
  std::int64_t refused = 0;
  for (std::int64_t i = 0; i < kMaxPerSender; ++i) {
    if (i % 256 == 0 && Clock::now() >= deadline) break;
    std::string reason;
    const std::string datagram = input(i, wallMs(), rng, "truncated", reason);
    if (::sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                 sizeof to) == static_cast<ssize_t>(datagram.size())) {
      ++sent.by_reason[reason];
    } else if (++refused > 1'000'000) {
      error = "sendto keeps failing: " + std::string(std::strerror(errno));
      break;
    }
  }
  ::close(fd);
}

// A subscriber that reads at most `per_read` results each time it is asked: far slower than the
// daemon publishes, so its queue in the daemon stays at publish_hwm and it loses the rest.
class SlowSubscriber {
 public:
  explicit SlowSubscriber(const std::string& endpoint)
      : context_(1), socket_(context_, zmq::socket_type::sub) {
    socket_.set(zmq::sockopt::rcvhwm, 1000);
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::subscribe, "");
    socket_.connect(endpoint);
  }
  void read(int per_read) {
    for (int i = 0; i < per_read; ++i) {
      zmq::message_t topic;
      if (!socket_.recv(topic, zmq::recv_flags::dontwait)) return;
      const bool result = topic.size() > 0 && *static_cast<const char*>(topic.data()) != '_';
      while (topic.more()) {
        zmq::message_t rest;
        (void)socket_.recv(rest);
        topic.move(rest);
      }
      results_ += result ? 1 : 0;
    }
  }
  std::int64_t results() const { return results_; }

 private:
  zmq::context_t context_;
  zmq::socket_t socket_;
  std::int64_t results_ = 0;
};

// ---- observation ----

// A field of /proc/<pid>/status in bytes ("VmRSS", "VmHWM"), 0 if absent.
double procStatusBytes(pid_t pid, const std::string& field) {
  std::istringstream in(readFile("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::atof(line.c_str() + field.size() + 1) * 1024;
  }
  return 0;
}

// Packets the kernel dropped at a cpu's input backlog (all of them, machine-wide), from
// /proc/net/softnet_stat: loopback datagrams dropped there never reach the socket's count.
std::int64_t softnetDrops() {
  std::istringstream in(readFile("/proc/net/softnet_stat"));
  std::int64_t total = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string processed, dropped;
    if (fields >> processed >> dropped) total += std::strtoll(dropped.c_str(), nullptr, 16);
  }
  return total;
}

struct Observed {
  int scrapes = 0;
  int failed = 0;
  std::string first_failure;
  double peak_rss = 0;  // the largest sampled, from the metric and from /proc
  int over_bound = 0;
  double oldest_beat = 0;
  std::string oldest_thread;
};

// Inputs a source took: accepted, refused for any reason, dropped at a ring.
double takenBy(const Metrics& m, const std::string& source) { return countedBy(m, source); }

double errorsOf(const Metrics& m, const std::string& source, const std::string& reason) {
  return m.valueOr0("rivulet_source_errors_total", {{"source", source}, {"reason", reason}});
}

TEST(DaemonSoak, MemoryStaysBoundedNoThreadStallsAndTheCountsAddUp) {
  const int seconds = soakSeconds();
  const MemoryBound bound;
  // Under ASan the bound is not the daemon's: shadow memory, redzones and the quarantine (256 MiB)
  // come on top. The check then only catches growth without bound.
  const double limit = kAsan ? 4 * bound.total() + 1024 * kMiB : bound.total();

  TempDir dir;
  Daemon daemon(dir, configYaml());
  ASSERT_TRUE(daemon.waitReady());
  const pid_t pid = daemon.process().pid();
  const int tcp_port = daemon.sourcePort("lines");
  const int udp_port = daemon.sourcePort("packets");
  ASSERT_GT(tcp_port, 0) << daemon.log();
  ASSERT_GT(udp_port, 0) << daemon.log();
  const std::string endpoint = daemon.publishEndpoint("tcp://");

  SlowSubscriber slow(endpoint);
  ChildProcess stopped({RIVULET_BINARY_DIR "/daemon/rivulet-sub", endpoint}, "/dev/null",
                       dir.file("sub.err"));
  std::string error;
  ASSERT_TRUE(daemon.scrapeUntil(
      [](const Metrics& scraped) {
        return scraped.valueOr0("rivulet_subscribers") >= kSubscribers;
      },
      30s, &error))
      << error;
  ASSERT_TRUE(stopped.signal(SIGSTOP));

  Observed seen;
  std::optional<Metrics> last;
  const auto observe = [&] {
    ++seen.scrapes;
    std::string why;
    std::optional<Metrics> m = daemon.scrape(&why);
    if (!m) {
      if (seen.failed++ == 0) seen.first_failure = why;
    } else {
      const double rss = std::max(m->valueOr0("rivulet_process_resident_memory_bytes"),
                                  procStatusBytes(pid, "VmRSS"));
      seen.peak_rss = std::max(seen.peak_rss, rss);
      if (rss > limit && seen.over_bound++ == 0) {
        ADD_FAILURE() << "resident set " << rss / kMiB << " MiB over the bound " << limit / kMiB
                      << " MiB";
      }
      for (const Sample& s : m->all("rivulet_thread_heartbeat_age_seconds")) {
        if (s.value > seen.oldest_beat) {
          seen.oldest_beat = s.value;
          seen.oldest_thread = s.labels.at("thread");
        }
      }
      last = std::move(m);
    }
    slow.read(500);  // ~2,000 results a second at most
  };
  // The scrape loop: paced, not a wait for anything.
  const auto paced = [&](Clock::time_point until, const auto& done) {
    for (auto next = Clock::now(); Clock::now() < until;) {
      observe();
      if (done()) return true;
      next += 250ms;
      std::this_thread::sleep_until(next);
    }
    return false;
  };

  const std::int64_t softnet_before = softnetDrops();
  const auto started = Clock::now();
  const auto deadline = started + std::chrono::seconds(seconds);
  std::vector<Sent> tcp_sent(kTcpClients), udp_sent(kUdpSenders);
  std::vector<std::string> tcp_errors(kTcpClients), udp_errors(kUdpSenders);
  {
    std::vector<std::jthread> load;
    for (int c = 0; c < kTcpClients; ++c) {
      load.emplace_back(tcpClient, tcp_port, deadline, 100 + c, std::ref(tcp_sent[c]),
                        std::ref(tcp_errors[c]));
    }
    for (int c = 0; c < kUdpSenders; ++c) {
      load.emplace_back(udpSender, udp_port, deadline, 200 + c, std::ref(udp_sent[c]),
                        std::ref(udp_errors[c]));
    }
    paced(deadline, [] { return false; });
  }  // the load threads stop at the deadline; a tcp send blocks at most its 20 s timeout
  const double load_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  for (const std::string& e : tcp_errors) EXPECT_EQ(e, "") << "a tcp client";
  for (const std::string& e : udp_errors) EXPECT_EQ(e, "") << "a udp sender";
  Sent tcp, udp;
  for (const Sent& s : tcp_sent) tcp.add(s);
  for (const Sent& s : udp_sent) udp.add(s);

  // Drain: the sources take what is still queued; the udp source then finds its socket empty
  // and reads the kernel's drop count.
  const auto udp_accounted = [&](const Metrics& scraped) {
    return takenBy(scraped, "packets") +
           scraped.valueOr0("rivulet_source_socket_drops_total", {{"source", "packets"}});
  };
  const bool drained = paced(Clock::now() + 60s, [&] {
    return last && takenBy(*last, "lines") == static_cast<double>(tcp.total()) &&
           udp_accounted(*last) == static_cast<double>(udp.total());
  });
  const std::int64_t softnet = softnetDrops() - softnet_before;
  ASSERT_TRUE(last.has_value()) << "no scrape answered: " << seen.first_failure;
  EXPECT_TRUE(drained || softnet > 0) << "tcp: " << takenBy(*last, "lines") << " of " << tcp.total()
                                      << " lines taken; udp: " << udp_accounted(*last) << " of "
                                      << udp.total() << " datagrams taken or dropped by the kernel";
  const double peak_hwm = procStatusBytes(pid, "VmHWM");  // the kernel's own peak, unsampled
  seen.peak_rss = std::max(seen.peak_rss, peak_hwm);
  EXPECT_LE(peak_hwm, limit) << "peak resident set (VmHWM) over the bound";

  EXPECT_EQ(seen.failed, 0) << "of " << seen.scrapes << " scrapes; first: " << seen.first_failure;
  EXPECT_LT(seen.oldest_beat, kStallSeconds) << "thread " << seen.oldest_thread;
  EXPECT_EQ(daemon.log().find("made no progress"), std::string::npos) << daemon.log();

  // A clean stop; the final counts come after every thread has been joined. At info only the
  // non-zero ones are logged: a series missing from them is 0 (valueOr0, and sums over samples).
  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  ASSERT_EQ(daemon.process().wait(60s), 0) << daemon.log();
  std::string counts;
  for (const std::string& line : splitLines(daemon.log())) {
    if (const std::size_t at = line.find("final count: "); at != std::string::npos)
      counts += line.substr(at + 13) + "\n";
  }
  const std::optional<Metrics> final_counts = Metrics::parse(counts, &error);
  ASSERT_TRUE(final_counts) << error;
  const Metrics& f = *final_counts;
  ASSERT_TRUE(f.value("rivulet_source_events_total", {{"source", "gen"}})) << daemon.log();

  // Per source: everything read was accepted, refused under a reason or dropped.
  EXPECT_EQ(takenBy(f, "lines"), static_cast<double>(tcp.total()));
  for (const char* reason : {"invalid_json", "missing_field", "line_too_long"}) {
    EXPECT_EQ(errorsOf(f, "lines", reason), static_cast<double>(tcp.by_reason[reason])) << reason;
  }
  EXPECT_EQ(f.valueOr0("rivulet_source_events_total", {{"source", "lines"}}),
            static_cast<double>(tcp.by_reason[""]));
  // Per datagram: read (and then accepted, refused or dropped) or dropped by the kernel — but
  // for what the machine's input backlog dropped before the socket (0 unless the kernel says so).
  const double udp_taken = takenBy(f, "packets");
  const double kernel_drops =
      f.valueOr0("rivulet_source_socket_drops_total", {{"source", "packets"}});
  EXPECT_LE(udp_taken + kernel_drops, static_cast<double>(udp.total()));
  EXPECT_GE(udp_taken + kernel_drops, static_cast<double>(udp.total() - softnet))
      << "softnet drops: " << softnet;
  for (const char* reason : {"invalid_json", "missing_field", "truncated"}) {
    EXPECT_LE(errorsOf(f, "packets", reason), static_cast<double>(udp.by_reason[reason])) << reason;
  }
  EXPECT_EQ(takenBy(f, "gen"), f.valueOr0("rivulet_source_events_total", {{"source", "gen"}}));
  // Per pipeline: every event its source accepted was aggregated, late or refused for max_keys.
  const std::map<std::string, std::string> pipelines = {
      {"gen_keys", "gen"}, {"line_syms", "lines"}, {"packet_syms", "packets"}};
  for (const auto& [pipeline, source] : pipelines) {
    const Labels p{{"pipeline", pipeline}};
    EXPECT_EQ(f.valueOr0("rivulet_pipeline_events_total", p) +
                  f.valueOr0("rivulet_pipeline_late_events_total", p) +
                  f.valueOr0("rivulet_pipeline_keys_refused_total", p),
              f.valueOr0("rivulet_source_events_total", {{"source", source}}))
        << pipeline;
    EXPECT_GE(f.valueOr0("rivulet_source_events_total", {{"source", source}}),
              last->valueOr0("rivulet_source_events_total", {{"source", source}}))
        << "a final count below a scrape's";
  }
  EXPECT_GT(f.valueOr0("rivulet_pipeline_keys_refused_total", {{"pipeline", "gen_keys"}}), 0)
      << "max_keys never reached";
  EXPECT_GT(f.sum("rivulet_results_published_total"), 0);
  EXPECT_GT(slow.results(), 0);

  // The numbers, to be quoted.
  const auto count = [&](const char* name, const std::string& label, const std::string& value) {
    return static_cast<long long>(f.valueOr0(name, {{label, value}}));
  };
  const auto published = [&](const std::string& pipeline) {  // summed over `kind`
    double total = 0;
    for (const Sample& s : f.all("rivulet_results_published_total")) {
      if (s.labels.at("pipeline") == pipeline) total += s.value;
    }
    return total;
  };
  std::printf("soak: %d s of load (%.1f s measured), %s build\n", seconds, load_seconds,
              kAsan ? "ASan" : "plain");
  for (const auto& [pipeline, source] : pipelines) {
    std::printf(
        "soak: source %-7s events %lld errors %lld dropped %lld | pipeline %-11s aggregated %lld "
        "late %lld keys_refused %lld published %lld\n",
        source.c_str(), count("rivulet_source_events_total", "source", source),
        static_cast<long long>(takenBy(f, source) -
                               f.valueOr0("rivulet_source_events_total", {{"source", source}}) -
                               f.valueOr0("rivulet_source_dropped_total", {{"source", source}})),
        count("rivulet_source_dropped_total", "source", source), pipeline.c_str(),
        count("rivulet_pipeline_events_total", "pipeline", pipeline),
        count("rivulet_pipeline_late_events_total", "pipeline", pipeline),
        count("rivulet_pipeline_keys_refused_total", "pipeline", pipeline),
        static_cast<long long>(published(pipeline)));
  }
  std::printf(
      "soak: tcp lines sent %lld; udp datagrams sent %lld, read %.0f, kernel drops %.0f, "
      "softnet drops (machine-wide) %lld\n",
      static_cast<long long>(tcp.total()), static_cast<long long>(udp.total()), udp_taken,
      kernel_drops, static_cast<long long>(softnet));
  std::printf("soak: results published %.0f, read by the slow subscriber %lld\n",
              f.sum("rivulet_results_published_total"), static_cast<long long>(slow.results()));
  std::printf(
      "soak: peak RSS %.1f MiB (VmHWM %.1f MiB), bound %.1f MiB%s (process %.0f + rings "
      "%.0f + windows %.1f + results %.1f + sources %.1f)\n",
      seen.peak_rss / kMiB, peak_hwm / kMiB, limit / kMiB, kAsan ? " (ASan-scaled)" : "",
      bound.process / kMiB, bound.rings / kMiB, bound.windows / kMiB, bound.results / kMiB,
      bound.sources / kMiB);
  std::printf("soak: oldest heartbeat %.3f s (%s), scrapes ok %d of %d\n", seen.oldest_beat,
              seen.oldest_thread.c_str(), seen.scrapes - seen.failed, seen.scrapes);
}

}  // namespace
}  // namespace rivulet::testutil
