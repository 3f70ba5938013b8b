#include "connectors/zmq/zmq_source.h"

#include <stdexcept>

#include "connectors/formats/line_framer.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::connectors {
namespace {

// How long a poll waits for a message: how soon a stop request or an idle timeout is noticed.
constexpr long kPollMs = 20;
// Messages ZeroMQ may queue for this socket before a PUB drops or a PUSH blocks: a burst of
// ~100 ms at 1 M msg/s, which is what a stage hiccup or a batch of windows firing can take.
constexpr int kReceiveHwm = 100'000;

}  // namespace

ZmqSource::ZmqSource(const config::SourceConfig& spec, pipeline::EventRouter router)
    : name_(spec.name),
      spec_(spec.zmq),
      router_(std::move(router)),
      decoder_(router_, spec),
      context_(1),
      authenticator_(spec_.curve && spec_.bind
                         ? std::make_unique<CurveAuthenticator>(context_, spec_.curve->clients,
                                                                router_.refusedConnections())
                         : nullptr),
      socket_(context_, spec_.socket == config::ZmqSocketType::kSub ? zmq::socket_type::sub
                                                                    : zmq::socket_type::pull),
      buffer_(static_cast<std::size_t>(spec_.max_message) + LineFramer::kPadding) {
  socket_.set(zmq::sockopt::rcvhwm, kReceiveHwm);
  socket_.set(zmq::sockopt::linger, 0);  // what is queued at stop is not waited for
  if (spec_.curve && spec_.bind) {
    makeCurveServer(socket_, *spec_.curve);
  } else if (spec_.curve) {
    makeCurveClient(socket_, *spec_.curve);
  }
  if (spec_.socket == config::ZmqSocketType::kSub) {
    for (const std::string& prefix : spec_.subscribe) socket_.set(zmq::sockopt::subscribe, prefix);
  }
  try {
    if (spec_.bind) {
      socket_.bind(spec_.endpoint);
      endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
    } else {
      socket_.connect(spec_.endpoint);
      endpoint_ = spec_.endpoint;
    }
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("source " + name_ + ": cannot " + (spec_.bind ? "bind" : "connect") +
                             " \"" + spec_.endpoint + "\": " + e.what());
  }
}

std::string ZmqSource::where() const {
  return (spec_.bind ? "listening on " : "connecting to ") + endpoint_ +
         (spec_.curve ? " with CURVE" : "");
}

void ZmqSource::run(std::stop_token stop) {
  zmq_pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  while (!stop.stop_requested()) {
    const int taken = receive();
    router_.flush(pipeline::wallNanos(), pipeline::steadyNanos());
    // A full batch: more are likely waiting, take them without polling first.
    if (taken < kBatch) zmq_poll(&item, 1, kPollMs);
  }
  router_.end(true);
}

bool ZmqSource::more() noexcept {
  int more = 0;
  std::size_t size = sizeof more;
  return zmq_getsockopt(socket_.handle(), ZMQ_RCVMORE, &more, &size) == 0 && more != 0;
}

int ZmqSource::receive() noexcept {
  void* const socket = socket_.handle();
  const auto max = static_cast<std::size_t>(spec_.max_message);
  const std::int64_t now = pipeline::wallNanos();
  int taken = 0;
  while (taken < kBatch) {
    // zmq_recv copies the frame into our buffer (the parser needs its padding after it) and
    // returns the frame's full size, also when that did not fit.
    int size = zmq_recv(socket, buffer_.data(), max, ZMQ_DONTWAIT);
    if (size < 0) break;  // EAGAIN: none waiting (or the context is ending)
    // The frames of a message arrive together: the ones after the first are here already. The
    // last is the event; each overwrites the one before.
    while (size >= 0 && more()) size = zmq_recv(socket, buffer_.data(), max, 0);
    if (size < 0) break;
    ++taken;
    if (static_cast<std::size_t>(size) > max) {
      decoder_.refuse(pipeline::ErrorReason::kTruncated);
      continue;
    }
    decoder_.message({buffer_.data(), static_cast<std::size_t>(size)}, buffer_.size(), now);
  }
  return taken;
}

}  // namespace rivulet::connectors
