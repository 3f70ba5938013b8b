// ZeroMQ CURVE for rivulet's sockets. A server socket (the result socket, a zmq source that
// binds) encrypts and lets in only the clients whose public keys the config lists; a client
// socket (a zmq source that connects) encrypts and checks the server's key.
//
// ZeroMQ asks a ZAP handler (RFC 27) whether to let a client in: a REP socket bound to
// inproc://zeromq.zap.01 in the socket's context. With no handler bound, ZeroMQ lets every
// client in whose handshake completes, so the authenticator must exist before a server socket
// binds, and lives as long as it.
#pragma once

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "config/config.h"
#include "pipeline/model/stats.h"

namespace rivulet::connectors {

class CurveAuthenticator {
 public:
  // Binds the handler in `context` now; `refused` counts clients turned away (this is its only
  // writer).
  CurveAuthenticator(zmq::context_t& context, const std::vector<std::string>& clients,
                     pipeline::Counter& refused);
  ~CurveAuthenticator();
  CurveAuthenticator(const CurveAuthenticator&) = delete;
  CurveAuthenticator& operator=(const CurveAuthenticator&) = delete;

 private:
  using Key = std::array<std::uint8_t, 32>;

  void run(std::stop_token stop);
  // Answers one request; false if it was not a ZAP request (then nothing is sent back).
  bool answer();

  zmq::socket_t socket_;
  std::set<Key> clients_;
  pipeline::Counter& refused_;
  std::jthread thread_;  // last: started once the rest is set
};

// Makes `socket` a CURVE server with `spec`'s key; before it binds.
void makeCurveServer(zmq::socket_t& socket, const config::CurveSpec& spec);

// Makes `socket` a CURVE client of the server `spec` names; before it connects.
void makeCurveClient(zmq::socket_t& socket, const config::CurveSpec& spec);

}  // namespace rivulet::connectors
