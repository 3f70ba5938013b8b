// ZmqSource: events from a ZeroMQ SUB or PULL socket that binds or connects. A message is one
// frame (the event) or several (a topic first, say): its last frame is the event, JSON or a CSV
// row. The socket is polled with a timeout, so a stop request is seen without traffic; messages
// are then taken without waiting, up to kBatch per flush of the router.
//
// Back-pressure: a PULL socket's senders block once its queue (and theirs) is full, so
// overflow: block slows them; a PUB never blocks, it drops what a SUB's queue cannot take, which
// rivulet cannot see or count. With overflow: drop the source drops at the ring instead of
// waiting, and counts it.
//
// With `curve`, a source that binds lets in only the clients whose keys it lists (others are
// counted as refused connections); one that connects encrypts and checks the server's key.
#pragma once

#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "connectors/formats/event_decoder.h"
#include "connectors/sources/source.h"
#include "connectors/zmq/curve.h"

namespace rivulet::connectors {

class ZmqSource final : public Source {
 public:
  // Messages taken per flush of the router.
  static constexpr int kBatch = 1024;

  // Binds or connects now, so that a bad endpoint or an address in use fails at start-up.
  ZmqSource(const config::SourceConfig& spec, pipeline::EventRouter router);
  void run(std::stop_token stop) override;
  bool bounded() const override { return false; }
  std::string where() const override;

  // The endpoint bound (tcp://host:0 resolved to the port chosen) or connected to.
  const std::string& endpoint() const noexcept { return endpoint_; }

 private:
  // Takes the messages waiting, up to kBatch; returns how many.
  int receive() noexcept;
  bool more() noexcept;

  const std::string name_;
  const config::ZmqSpec spec_;
  pipeline::EventRouter router_;
  EventDecoder decoder_;
  zmq::context_t context_;
  std::unique_ptr<CurveAuthenticator> authenticator_;  // before the socket: see curve.h
  zmq::socket_t socket_;
  std::string endpoint_;
  std::vector<char> buffer_;  // max_message and the parser's padding
};

}  // namespace rivulet::connectors
