// rivulet-sub: subscribes to a rivulet result endpoint and prints each result as a JSON line —
// the kcat of rivulet.
#include <signal.h>

#include <atomic>
#include <charconv>
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

namespace {

std::atomic<bool> g_stop{false};

const char* const kUsage =
    R"usage(usage: rivulet-sub [--topic] [--count N] [--curve-key FILE --curve-server-key FILE]
                   ENDPOINT [TOPIC-PREFIX...]

Prints every result published on ENDPOINT (e.g. tcp://127.0.0.1:5556) as one JSON line.
Prefixes filter by topic: "volume_1m/" is one pipeline, "volume_1m/AAPL/" one key of it,
"_window/" the end-of-window markers. No prefix: everything.

  --topic     print "TOPIC PAYLOAD" instead of the payload alone
  --count N   exit after N messages
  --curve-key FILE
              this subscriber's CURVE secret key (rivuletd --curve-keypair writes one); its
              public key must be in the daemon's publish_curve.clients directory
  --curve-server-key FILE
              the daemon's CURVE public key (the .public of its publish_curve.secret_key)
  -h, --help  print this help and exit

Results the publisher dropped for this subscriber (it was more than daemon.publish_hwm results
behind) show as a gap in a pipeline's seq; when every result of the pipeline is subscribed to,
each gap is reported on stderr: "rivulet-sub: missed N results of PIPELINE (seq A..B)".

Exit codes: 0 stopped by SIGINT/SIGTERM or N messages printed, 1 cannot connect (also: the
daemon refused this subscriber's key, or the handshake failed), 2 bad command line.
)usage";

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

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  bool with_topic = false;
  long long count = -1;
  std::string curve_key;
  std::string curve_server_key;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--topic") {
      with_topic = true;
    } else if (arg == "--count" && i + 1 < argc) {
      count = std::atoll(argv[++i]);
    } else if (arg == "--curve-key" && i + 1 < argc) {
      curve_key = argv[++i];
    } else if (arg == "--curve-server-key" && i + 1 < argc) {
      curve_server_key = argv[++i];
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg.rfind("--", 0) == 0) {
      std::fprintf(stderr, "rivulet-sub: unknown option %s\n%s", arg.c_str(), kUsage);
      return 2;
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.empty() || curve_key.empty() != curve_server_key.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::sub);
  socket.set(zmq::sockopt::rcvhwm, 1'000'000);
  if (!curve_key.empty()) {
    std::string error;
    const auto secret = rivulet::config::readCurveKeyFile(curve_key, error);
    const auto server =
        secret ? rivulet::config::readCurveKeyFile(curve_server_key, error) : std::nullopt;
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
    socket.connect(positional[0]);
  } catch (const zmq::error_t& e) {
    std::fprintf(stderr, "rivulet-sub: cannot connect to %s: %s\n", positional[0].c_str(),
                 e.what());
    return 1;
  }
  if (positional.size() == 1) positional.emplace_back("");
  const std::vector<std::string> prefixes(positional.begin() + 1, positional.end());
  for (const std::string& prefix : prefixes) socket.set(zmq::sockopt::subscribe, prefix);
  GapDetector gaps(prefixes);

  // Line-buffered when a person watches, block-buffered into a pipe or file.
  zmq::message_t topic, payload;
  long long received = 0;
  int status = 0;
  while (!g_stop && count != received) {
    zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0},
                               {monitor.handle(), 0, ZMQ_POLLIN, 0}};
    if (zmq_poll(items, 2, 100) <= 0) {  // 0: timeout; -1: EINTR from our own stop signal
      std::fflush(stdout);
      continue;
    }
    if ((items[1].revents & ZMQ_POLLIN) != 0) {
      if (const char* why = handshakeFailure(monitor)) {
        std::fprintf(stderr, "rivulet-sub: %s: %s\n", positional[0].c_str(), why);
        status = 1;
        break;
      }
    }
    if ((items[0].revents & ZMQ_POLLIN) == 0) continue;
    if (!receive(socket, topic, ZMQ_DONTWAIT)) continue;
    if (!topic.more() || !receive(socket, payload)) continue;
    gaps.see(topic.to_string_view(), payload.to_string_view());
    if (with_topic) {
      std::fwrite(topic.data(), 1, topic.size(), stdout);
      std::fputc(' ', stdout);
    }
    std::fwrite(payload.data(), 1, payload.size(), stdout);
    std::fputc('\n', stdout);
    ++received;
  }
  std::fflush(stdout);
  zmq_socket_monitor(socket.handle(), nullptr, 0);
  return status;
}
