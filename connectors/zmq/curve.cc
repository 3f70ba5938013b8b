#include "connectors/zmq/curve.h"

#include <cstring>
#include <string_view>

namespace rivulet::connectors {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
// The ZAP domain set on server sockets; requests from other domains are refused.
constexpr std::string_view kDomain = "rivulet";
// How often the handler looks at its stop token when no request comes.
constexpr long kPollMs = 100;

std::string_view text(const zmq::message_t& m) {
  return {static_cast<const char*>(m.data()), m.size()};
}

}  // namespace

CurveAuthenticator::CurveAuthenticator(zmq::context_t& context,
                                       const std::vector<std::string>& clients,
                                       pipeline::Counter& refused)
    : socket_(context, zmq::socket_type::rep), refused_(refused) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind(kZapEndpoint);
  for (const std::string& z85 : clients) {
    Key key{};
    if (zmq_z85_decode(key.data(), z85.c_str()) != nullptr) clients_.insert(key);
  }
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

CurveAuthenticator::~CurveAuthenticator() {
  thread_.request_stop();
  thread_.join();
}

void CurveAuthenticator::run(std::stop_token stop) {
  pthread_setname_np(pthread_self(), "rivulet-zap");
  zmq_pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  while (!stop.stop_requested()) {
    if (zmq_poll(&item, 1, kPollMs) <= 0) continue;
    answer();
  }
}

bool CurveAuthenticator::answer() {
  // Request: version, request id, domain, address, routing id, mechanism, then the mechanism's
  // credentials (CURVE: the client's 32-byte public key).
  std::vector<zmq::message_t> frames;
  do {
    frames.emplace_back();
    if (!socket_.recv(frames.back(), zmq::recv_flags::dontwait)) return false;
  } while (frames.back().more());
  if (frames.size() < 6 || text(frames[0]) != "1.0") {
    // REP must answer something before it can read the next request.
    socket_.send(zmq::str_buffer(""), zmq::send_flags::none);
    return false;
  }
  bool allowed = false;
  if (text(frames[2]) == kDomain && text(frames[5]) == "CURVE" && frames.size() == 7 &&
      frames[6].size() == sizeof(Key)) {
    Key key{};
    std::memcpy(key.data(), frames[6].data(), key.size());
    allowed = clients_.contains(key);
  }
  if (!allowed) pipeline::bump(refused_);
  // Reply: version, request id, status code, status text, user id, metadata.
  socket_.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
  socket_.send(frames[1], zmq::send_flags::sndmore);
  socket_.send(allowed ? zmq::str_buffer("200") : zmq::str_buffer("400"), zmq::send_flags::sndmore);
  socket_.send(allowed ? zmq::str_buffer("OK") : zmq::str_buffer("client key not allowed"),
               zmq::send_flags::sndmore);
  socket_.send(zmq::str_buffer(""), zmq::send_flags::sndmore);
  socket_.send(zmq::str_buffer(""), zmq::send_flags::none);
  return true;
}

void makeCurveServer(zmq::socket_t& socket, const config::CurveSpec& spec) {
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, spec.secret_key);
  socket.set(zmq::sockopt::zap_domain, std::string(kDomain));
}

void makeCurveClient(zmq::socket_t& socket, const config::CurveSpec& spec) {
  socket.set(zmq::sockopt::curve_serverkey, spec.server_key);
  socket.set(zmq::sockopt::curve_publickey, spec.public_key);
  socket.set(zmq::sockopt::curve_secretkey, spec.secret_key);
}

}  // namespace rivulet::connectors
