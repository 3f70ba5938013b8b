// rivulet-sub: subscribes to a rivulet result endpoint and prints each result as a JSON line —
// the kcat of rivulet.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>
#include <zmq.hpp>

namespace {

std::atomic<bool> g_stop{false};

const char* const kUsage = R"(usage: rivulet-sub [--topic] [--count N] ENDPOINT [TOPIC-PREFIX...]

Prints every result published on ENDPOINT (e.g. tcp://127.0.0.1:5556) as one JSON line.
Prefixes filter by topic: "volume_1m/" is one pipeline, "volume_1m/AAPL/" one key of it,
"_window/" the end-of-window markers. No prefix: everything.

  --topic     print "TOPIC PAYLOAD" instead of the payload alone
  --count N   exit after N messages
  -h, --help  print this help and exit

Exit codes: 0 stopped by SIGINT/SIGTERM or N messages printed, 1 cannot connect, 2 bad command
line.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  bool with_topic = false;
  long long count = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--topic") {
      with_topic = true;
    } else if (arg == "--count" && i + 1 < argc) {
      count = std::atoll(argv[++i]);
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
  if (positional.empty()) {
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
  try {
    socket.connect(positional[0]);
  } catch (const zmq::error_t& e) {
    std::fprintf(stderr, "rivulet-sub: cannot connect to %s: %s\n", positional[0].c_str(),
                 e.what());
    return 1;
  }
  if (positional.size() == 1) positional.emplace_back("");
  for (std::size_t i = 1; i < positional.size(); ++i)
    socket.set(zmq::sockopt::subscribe, positional[i]);

  // Line-buffered when a person watches, block-buffered into a pipe or file.
  zmq::message_t topic, payload;
  long long received = 0;
  while (!g_stop && count != received) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, 100) <= 0) {  // 0: timeout; -1: EINTR from our own stop signal
      std::fflush(stdout);
      continue;
    }
    if (!socket.recv(topic, zmq::recv_flags::dontwait)) continue;
    if (!topic.more() || !socket.recv(payload)) continue;
    if (with_topic) {
      std::fwrite(topic.data(), 1, topic.size(), stdout);
      std::fputc(' ', stdout);
    }
    std::fwrite(payload.data(), 1, payload.size(), stdout);
    std::fputc('\n', stdout);
    ++received;
  }
  std::fflush(stdout);
  return 0;
}
