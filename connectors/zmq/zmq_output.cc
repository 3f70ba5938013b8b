#include "connectors/zmq/zmq_output.h"

#include <atomic>
#include <cstring>

namespace rivulet::connectors {
namespace {
// How long queued results may take to leave at shutdown.
constexpr int kLingerMs = 5'000;
std::atomic<int> monitor_ids{0};
}  // namespace

ZmqOutput::ZmqOutput(zmq::context_t& context, const std::vector<std::string>& endpoints, int hwm,
                     const config::CurveSpec* curve, pipeline::PublisherStats& stats)
    : authenticator_(curve != nullptr ? std::make_unique<CurveAuthenticator>(
                                            context, curve->clients, stats.subscribers_refused)
                                      : nullptr),
      socket_(context, zmq::socket_type::xpub),
      monitor_(context, zmq::socket_type::pair),
      stats_(stats) {
  socket_.set(zmq::sockopt::sndhwm, hwm);
  socket_.set(zmq::sockopt::linger, kLingerMs);
  if (curve != nullptr) makeCurveServer(socket_, *curve);
  const std::string monitor = "inproc://rivulet-monitor-" + std::to_string(monitor_ids++);
  if (zmq_socket_monitor(socket_.handle(), monitor.c_str(),
                         ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0) {
    throw zmq::error_t();
  }
  monitor_.connect(monitor);
  for (const std::string& endpoint : endpoints) {
    try {
      socket_.bind(endpoint);
    } catch (const zmq::error_t& e) {
      throw std::runtime_error("publish: cannot bind \"" + endpoint + "\": " + e.what());
    }
    bound_.push_back(socket_.get(zmq::sockopt::last_endpoint));
  }
}

ZmqOutput::~ZmqOutput() { zmq_socket_monitor(socket_.handle(), nullptr, 0); }

void ZmqOutput::send(std::string_view topic, std::string_view payload) {
  // XPUB never blocks: with a subscriber over its HWM, ZeroMQ drops for that subscriber only.
  if (zmq_send(socket_.handle(), topic.data(), topic.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
      zmq_send(socket_.handle(), payload.data(), payload.size(), ZMQ_DONTWAIT) < 0) {
    pipeline::bump(stats_.send_errors);
  }
}

void ZmqOutput::idle() {
  // Subscriptions arrive on the XPUB socket; read them so they do not queue up.
  zmq::message_t message;
  while (socket_.recv(message, zmq::recv_flags::dontwait)) {
  }
  // Monitor events are two frames: [event:u16 value:u32] and the endpoint.
  while (monitor_.recv(message, zmq::recv_flags::dontwait)) {
    std::uint16_t event = 0;
    if (message.size() >= sizeof event) std::memcpy(&event, message.data(), sizeof event);
    while (message.more() && monitor_.recv(message, zmq::recv_flags::dontwait)) {
    }
    const std::int64_t now = stats_.subscribers.load(std::memory_order_relaxed);
    if (event == ZMQ_EVENT_ACCEPTED) {
      stats_.subscribers.store(now + 1, std::memory_order_relaxed);
    } else if (event == ZMQ_EVENT_DISCONNECTED && now > 0) {
      stats_.subscribers.store(now - 1, std::memory_order_relaxed);
    }
  }
}

}  // namespace rivulet::connectors
