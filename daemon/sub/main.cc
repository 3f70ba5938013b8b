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
#include "daemon/sub/options.h"
#include "daemon/sub/result_table.h"
#include "daemon/version.h"

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

constexpr std::string_view kMarkerTopic = "_window/";
constexpr std::string_view kLateTopic = "_late/";
constexpr auto kWaitingNoteAfter = std::chrono::seconds(2);

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// What to subscribe to, and which of the messages ZeroMQ then delivers to print. ZeroMQ filters
// by prefix only: a subscription to everything gets the markers and late events too, so they are
// hidden here unless asked for.
class TopicFilter {
 public:
  explicit TopicFilter(const rivulet::daemon::SubOptions& o)
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
  namespace rd = rivulet::daemon;
  std::string error;
  const std::optional<rd::SubOptions> parsed = rd::parseSubOptions({argv + 1, argv + argc}, error);
  if (!parsed) {
    std::fprintf(stderr, "rivulet-sub: %s\n%s", error.c_str(), rd::kSubUsage);
    return 2;
  }
  const rd::SubOptions& options = *parsed;
  if (options.command == rd::SubCommand::kHelp) {
    std::fputs(rd::kSubUsage, stdout);
    return 0;
  }
  if (options.command == rd::SubCommand::kVersion) {
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
    if (options.format == rd::SubFormat::kTable) {
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
