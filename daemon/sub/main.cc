// rivulet-sub: subscribes to a rivulet result endpoint and prints each result as a JSON line or a
// table row — the kcat of rivulet.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "config/curve_key.h"
#include "config/duration.h"
#include "daemon/sub/result_table.h"
#include "daemon/version.h"

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

const char* const kUsage =
    R"usage(usage: rivulet-sub [--format json|table] [--topic] [--markers] [--late] [--count N]
                   [--timeout DURATION] [--curve-key FILE --curve-server-key FILE]
                   ENDPOINT [TOPIC-PREFIX...]
       rivulet-sub --version | --help

Prints every result published on ENDPOINT (tcp://HOST:PORT, or HOST:PORT for short, or
ipc://PATH) as one JSON line. Prefixes filter by topic: "volume_1m/" is one pipeline,
"volume_1m/AAPL/" one key of it. No prefix: every pipeline.

  --format json|table
              json (default): each payload as it came, one line each; table: aligned rows of
              window (UTC), pipeline, kind, key and values under a header, flushed per row
  --topic     print "TOPIC PAYLOAD" instead of the payload alone (json)
  --markers   also print the end-of-window markers (_window/PIPELINE/) of the pipelines
              subscribed to (a table shows them as kind "end")
  --late      also print the late events they republish (_late/PIPELINE/, for pipelines with
              late: {topic: true}; a table shows them as kind "late")
  --count N   exit after N messages printed
  --timeout DURATION
              exit once nothing was printed for DURATION (e.g. 500ms, 10s, 1m)
  --curve-key FILE
              this subscriber's CURVE secret key (rivuletd --curve-keypair writes one); its
              public key must be in the daemon's publish_curve.clients directory
  --curve-server-key FILE
              the daemon's CURVE public key (the .public of its publish_curve.secret_key)
  -V, --version
              print the version and exit
  -h, --help  print this help and exit

Markers and late events show as they came, like results; a TOPIC-PREFIX starting with
"_window/" or "_late/" asks for them too. If nothing has arrived 2 s after the start,
rivulet-sub says so on stderr, once, naming the endpoint and what it subscribed to.

Results the publisher dropped for this subscriber (it was more than daemon.publish_hwm results
behind) show as a gap in a pipeline's seq; when every result of the pipeline is subscribed to,
each gap is reported on stderr: "rivulet-sub: missed N results of PIPELINE (seq A..B)".

Exit codes: 0 stopped by SIGINT/SIGTERM, N messages printed, or --timeout after at least one
message; 1 cannot connect (also: the daemon refused this subscriber's key, or the handshake
failed); 2 bad command line; 3 --timeout passed without any message printed.
)usage";

constexpr std::string_view kMarkerTopic = "_window/";
constexpr std::string_view kLateTopic = "_late/";
constexpr auto kWaitingNoteAfter = std::chrono::seconds(2);

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

enum class Format { kJson, kTable };

struct Options {
  std::string endpoint;
  std::vector<std::string> prefixes;  // as given; none: every pipeline
  Format format = Format::kJson;
  bool with_topic = false;
  bool markers = false;
  bool late = false;
  long long count = -1;  // -1: no limit
  std::optional<std::chrono::nanoseconds> timeout;
  std::string curve_key;
  std::string curve_server_key;
};

// ZeroMQ's endpoint for what was typed: HOST:PORT stands for tcp://HOST:PORT.
std::optional<std::string> endpointOf(const std::string& text) {
  if (text.find("://") != std::string::npos) return text;
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size() ||
      !std::all_of(text.begin() + static_cast<std::ptrdiff_t>(colon) + 1, text.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return "tcp://" + text;
}

enum class Command { kRun, kHelp, kVersion };

// Reads the command line into `o`; nullopt with `error` set if it is wrong (exit 2).
std::optional<Command> parseCommandLine(int argc, char** argv, Options& o, std::string& error) {
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const std::string flag = arg.rfind("--", 0) == 0 ? arg.substr(0, arg.find('=')) : arg;
    const auto value = [&](std::string& out) {
      if (flag.size() < arg.size()) {
        out = arg.substr(flag.size() + 1);
        return true;
      }
      if (i + 1 >= argc) {
        error = flag + " needs a value";
        return false;
      }
      out = argv[++i];
      return true;
    };
    std::string text;
    if (flag == "--topic") {
      o.with_topic = true;
    } else if (flag == "--markers") {
      o.markers = true;
    } else if (flag == "--late") {
      o.late = true;
    } else if (flag == "--format") {
      if (!value(text)) return std::nullopt;
      if (text != "json" && text != "table") {
        error = "--format: \"" + text + "\" is not json or table";
        return std::nullopt;
      }
      o.format = text == "json" ? Format::kJson : Format::kTable;
    } else if (flag == "--count") {
      if (!value(text)) return std::nullopt;
      const char* end = text.data() + text.size();
      if (std::from_chars(text.data(), end, o.count).ptr != end || text.empty() || o.count < 1) {
        error = "--count: \"" + text + "\" is not a positive integer";
        return std::nullopt;
      }
    } else if (flag == "--timeout") {
      if (!value(text)) return std::nullopt;
      const auto timeout = rivulet::config::parseDuration(text);
      if (!timeout || *timeout <= 0) {
        error = "--timeout: \"" + text + "\" is not a positive duration (use e.g. 500ms, 10s, 1m)";
        return std::nullopt;
      }
      o.timeout = std::chrono::nanoseconds(*timeout);
    } else if (flag == "--curve-key") {
      if (!value(o.curve_key)) return std::nullopt;
    } else if (flag == "--curve-server-key") {
      if (!value(o.curve_server_key)) return std::nullopt;
    } else if (flag == "-h" || flag == "--help") {
      return Command::kHelp;
    } else if (flag == "-V" || flag == "--version") {
      return Command::kVersion;
    } else if (arg.size() > 1 && arg[0] == '-') {
      error = "unknown option " + arg;
      return std::nullopt;
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.empty()) {
    error = "no ENDPOINT";
    return std::nullopt;
  }
  if (o.curve_key.empty() != o.curve_server_key.empty()) {
    error = "--curve-key and --curve-server-key go together";
    return std::nullopt;
  }
  const auto endpoint = endpointOf(positional[0]);
  if (!endpoint) {
    error = "\"" + positional[0] + "\" is not an endpoint (use tcp://HOST:PORT, HOST:PORT or " +
            "ipc://PATH)";
    return std::nullopt;
  }
  o.endpoint = *endpoint;
  o.prefixes.assign(positional.begin() + 1, positional.end());
  return Command::kRun;
}

// What to subscribe to, and which of the messages ZeroMQ then delivers to print. ZeroMQ filters
// by prefix only: a subscription to everything gets the markers and late events too, so they are
// hidden here unless asked for.
class TopicFilter {
 public:
  explicit TopicFilter(const Options& o)
      : prefixes_(o.prefixes), markers_(o.markers), late_(o.late) {
    if (prefixes_.empty()) {
      subscriptions_.emplace_back();
      return;
    }
    for (const std::string& prefix : prefixes_) {
      add(prefix);
      if (startsWith(prefix, "_")) continue;
      // The pipeline part of the prefix: "volume_1m/AAPL/" -> "volume_1m/".
      const std::size_t slash = prefix.find('/');
      const std::string pipeline = prefix.substr(0, slash == std::string::npos ? slash : slash + 1);
      if (markers_) add(std::string(kMarkerTopic) + pipeline);
      if (late_) add(std::string(kLateTopic) + pipeline);
    }
  }

  const std::vector<std::string>& subscriptions() const { return subscriptions_; }

  bool shows(std::string_view topic) const {
    if (startsWith(topic, kMarkerTopic)) return markers_ || askedFor(topic, kMarkerTopic);
    if (startsWith(topic, kLateTopic)) return late_ || askedFor(topic, kLateTopic);
    return true;
  }

  // "everything", or the subscriptions quoted: for the notes on stderr.
  std::string describe() const {
    if (subscriptions_.size() == 1 && subscriptions_[0].empty()) return "everything";
    std::string text;
    for (const std::string& s : subscriptions_) text += (text.empty() ? "\"" : ", \"") + s + "\"";
    return text;
  }

 private:
  void add(const std::string& subscription) {
    if (std::find(subscriptions_.begin(), subscriptions_.end(), subscription) ==
        subscriptions_.end()) {
      subscriptions_.push_back(subscription);
    }
  }
  // A prefix of that kind ("_window/p/") was given and the topic matches it.
  bool askedFor(std::string_view topic, std::string_view kind) const {
    return std::any_of(prefixes_.begin(), prefixes_.end(), [&](const std::string& prefix) {
      return startsWith(prefix, kind) && startsWith(topic, prefix);
    });
  }

  std::vector<std::string> prefixes_;
  bool markers_;
  bool late_;
  std::vector<std::string> subscriptions_;
};

// Finds the gaps in each pipeline's seq. A result payload starts {"pipeline":"NAME","seq":N (the
// daemon writes it so; names are plain), markers and late events have other topics.
class GapDetector {
 public:
  explicit GapDetector(const std::vector<std::string>& prefixes) : prefixes_(prefixes) {}

  void see(std::string_view topic, std::string_view payload) {
    if (topic.empty() || topic.front() == '_') return;
    constexpr std::string_view kHead = R"({"pipeline":")";
    if (payload.substr(0, kHead.size()) != kHead) return;
    payload.remove_prefix(kHead.size());
    const std::size_t quote = payload.find('"');
    if (quote == std::string_view::npos) return;
    const std::string_view name = payload.substr(0, quote);
    constexpr std::string_view kSeq = R"(","seq":)";
    std::string_view rest = payload.substr(quote);
    if (rest.substr(0, kSeq.size()) != kSeq) return;
    rest.remove_prefix(kSeq.size());
    std::uint64_t seq = 0;
    if (std::from_chars(rest.data(), rest.data() + rest.size(), seq).ec != std::errc()) return;

    auto [it, added] = pipelines_.try_emplace(std::string(name));
    Pipeline& p = it->second;
    if (added) p.whole = coversWhole(name);
    // A seq that goes back is a restarted daemon (or one restored from a checkpoint): start over.
    if (p.whole && p.last != 0 && seq > p.last + 1) {
      std::fprintf(stderr, "rivulet-sub: missed %llu results of %s (seq %llu..%llu)\n",
                   static_cast<unsigned long long>(seq - p.last - 1), it->first.c_str(),
                   static_cast<unsigned long long>(p.last + 1),
                   static_cast<unsigned long long>(seq - 1));
    }
    p.last = seq;
  }

 private:
  struct Pipeline {
    std::uint64_t last = 0;
    bool whole = false;  // every result of it is subscribed to: a gap is a loss
  };

  bool coversWhole(std::string_view name) const {
    const std::string topic = std::string(name) + "/";
    for (const std::string& prefix : prefixes_) {
      if (topic.compare(0, prefix.size(), prefix) == 0) return true;
    }
    return false;
  }

  const std::vector<std::string>& prefixes_;
  std::unordered_map<std::string, Pipeline> pipelines_;
};

// Receives a frame; false when none is waiting (with ZMQ_DONTWAIT) or a signal interrupted the
// call (our own stop signal: the loop then ends), where cppzmq would throw for the latter.
bool receive(zmq::socket_t& socket, zmq::message_t& frame, int flags = 0) {
  return zmq_msg_recv(frame.handle(), socket.handle(), flags) >= 0;
}

// Reads one monitor event (two frames: [event:u16 value:u32], the endpoint); says what failed.
const char* handshakeFailure(zmq::socket_t& monitor) {
  zmq::message_t message;
  if (!receive(monitor, message, ZMQ_DONTWAIT)) return nullptr;
  std::uint16_t event = 0;
  if (message.size() >= sizeof event) std::memcpy(&event, message.data(), sizeof event);
  while (message.more() && receive(monitor, message, ZMQ_DONTWAIT)) {
  }
  switch (event) {
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
      return "the daemon refused this subscriber's key (it is not in publish_curve.clients)";
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      return "handshake failed (one side uses CURVE and the other not?)";
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
      return "handshake failed (is --curve-server-key the daemon's public key?)";
    default:
      return nullptr;
  }
}

// Why nothing was printed within `waited`, for stderr: nothing came, or all that came was hidden.
std::string nothingYet(const std::string& endpoint, const TopicFilter& filter, long long hidden,
                       const std::string& waited) {
  if (hidden == 0) {
    return "nothing received from " + endpoint + " in " + waited + " (subscribed to " +
           filter.describe() + "); is rivuletd publishing there?";
  }
  return "nothing to print from " + endpoint + " in " + waited + ": " + std::to_string(hidden) +
         " end-of-window markers or late events hidden (--markers, --late show them)";
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  std::string error;
  const std::optional<Command> command = parseCommandLine(argc, argv, options, error);
  if (!command) {
    std::fprintf(stderr, "rivulet-sub: %s\n%s", error.c_str(), kUsage);
    return 2;
  }
  if (*command == Command::kHelp) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (*command == Command::kVersion) {
    std::printf("rivulet-sub %s\n", rivulet::kVersion);
    return 0;
  }
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  const std::string& endpoint = options.endpoint;
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::sub);
  socket.set(zmq::sockopt::rcvhwm, 1'000'000);
  // Only for a literal IPv6 address: with it on, a host name may resolve to ::1 while the daemon
  // listens on 127.0.0.1, and ZeroMQ would retry that address forever.
  if (endpoint.find("://[") != std::string::npos) socket.set(zmq::sockopt::ipv6, 1);
  if (!options.curve_key.empty()) {
    const auto secret = rivulet::config::readCurveKeyFile(options.curve_key, error);
    const auto server =
        secret ? rivulet::config::readCurveKeyFile(options.curve_server_key, error) : std::nullopt;
    if (!server) {
      std::fprintf(stderr, "rivulet-sub: %s\n", error.c_str());
      return 2;
    }
    socket.set(zmq::sockopt::curve_serverkey, *server);
    socket.set(zmq::sockopt::curve_publickey, *rivulet::config::curvePublicKey(*secret));
    socket.set(zmq::sockopt::curve_secretkey, *secret);
  }
  // A failed handshake is not retried into silence: ZeroMQ would try again forever.
  zmq::socket_t monitor(context, zmq::socket_type::pair);
  if (zmq_socket_monitor(socket.handle(), "inproc://rivulet-sub-monitor",
                         ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0) {
    std::fprintf(stderr, "rivulet-sub: cannot monitor the socket: %s\n", zmq_strerror(zmq_errno()));
    return 1;
  }
  monitor.connect("inproc://rivulet-sub-monitor");
  try {
    socket.connect(endpoint);
  } catch (const zmq::error_t& e) {
    std::fprintf(stderr, "rivulet-sub: cannot connect to %s: %s\n", endpoint.c_str(), e.what());
    return 1;
  }
  const TopicFilter filter(options);
  for (const std::string& s : filter.subscriptions()) socket.set(zmq::sockopt::subscribe, s);
  const std::vector<std::string> whole =
      options.prefixes.empty() ? std::vector<std::string>{""} : options.prefixes;
  GapDetector gaps(whole);
  rivulet::daemon::ResultTable table(stdout);

  // JSON lines: line-buffered when a person watches, block-buffered into a pipe or file and
  // flushed whenever the stream pauses.
  zmq::message_t topic, payload;
  long long printed = 0;
  long long hidden = 0;
  int status = 0;
  const Clock::time_point started = Clock::now();
  Clock::time_point last_printed = started;
  bool noted = false;
  while (!g_stop && options.count != printed) {
    const Clock::time_point now = Clock::now();
    if (!noted && printed == 0 && now - started >= kWaitingNoteAfter) {
      std::fprintf(stderr, "rivulet-sub: still waiting: %s\n",
                   nothingYet(endpoint, filter, hidden, "2 s").c_str());
      noted = true;
    }
    if (options.timeout && now - last_printed >= *options.timeout) {
      if (printed == 0) {
        const std::string waited = rivulet::config::formatDuration(options.timeout->count());
        std::fprintf(stderr, "rivulet-sub: %s\n",
                     nothingYet(endpoint, filter, hidden, waited).c_str());
      }
      status = printed == 0 ? 3 : 0;
      break;
    }
    // Wake for the note and the timeout on time, and every 100 ms to flush.
    Clock::duration wait = std::chrono::milliseconds(100);
    if (!noted) wait = std::min(wait, started + kWaitingNoteAfter - now);
    if (options.timeout) wait = std::min(wait, last_printed + *options.timeout - now);
    const long wait_ms =
        std::max<long>(0, std::chrono::ceil<std::chrono::milliseconds>(wait).count());
    zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0},
                               {monitor.handle(), 0, ZMQ_POLLIN, 0}};
    if (zmq_poll(items, 2, wait_ms) <= 0) {  // 0: timeout; -1: EINTR from our own stop signal
      std::fflush(stdout);
      continue;
    }
    if ((items[1].revents & ZMQ_POLLIN) != 0) {
      if (const char* why = handshakeFailure(monitor)) {
        std::fprintf(stderr, "rivulet-sub: %s: %s\n", endpoint.c_str(), why);
        status = 1;
        break;
      }
    }
    if ((items[0].revents & ZMQ_POLLIN) == 0) continue;
    if (!receive(socket, topic, ZMQ_DONTWAIT)) continue;
    if (!topic.more() || !receive(socket, payload)) continue;
    gaps.see(topic.to_string_view(), payload.to_string_view());
    if (!filter.shows(topic.to_string_view())) {
      ++hidden;
      continue;
    }
    if (options.format == Format::kTable) {
      table.print(topic.to_string_view(), payload.to_string_view());
    } else {
      if (options.with_topic) {
        std::fwrite(topic.data(), 1, topic.size(), stdout);
        std::fputc(' ', stdout);
      }
      std::fwrite(payload.data(), 1, payload.size(), stdout);
      std::fputc('\n', stdout);
    }
    ++printed;
    last_printed = Clock::now();
  }
  std::fflush(stdout);
  zmq_socket_monitor(socket.handle(), nullptr, 0);
  return status;
}
