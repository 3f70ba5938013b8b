// ZmqOutput: the result socket. An XPUB socket bound to every `daemon.publish` endpoint; each
// result is a two-frame message [topic, payload]. XPUB rather than PUB so that subscriptions are
// visible; a socket monitor counts connected subscribers. Sends never block: a subscriber more than
// `hwm` results behind loses the ones over it (ZeroMQ drops for that subscriber only, silently;
// it sees the gap in the results' `seq`). With `curve`, results are encrypted and only the
// subscribers whose keys it lists get in.
#pragma once

#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "config/config.h"
#include "connectors/zmq/curve.h"
#include "pipeline/model/stats.h"
#include "pipeline/publisher.h"

namespace rivulet::connectors {

class ZmqOutput final : public pipeline::ResultOutput {
 public:
  // Binds now (throws zmq::error_t naming nothing; the caller adds the endpoint to the message).
  ZmqOutput(zmq::context_t& context, const std::vector<std::string>& endpoints, int hwm,
            const config::CurveSpec* curve, pipeline::PublisherStats& stats);
  ~ZmqOutput() override;

  void send(std::string_view topic, std::string_view payload) override;
  void sendMarker(std::string_view topic, std::string_view payload) override {
    send(topic, payload);
  }
  void idle() override;

  // The endpoints actually bound (tcp://host:0 resolves to the chosen port).
  const std::vector<std::string>& endpoints() const { return bound_; }

 private:
  std::unique_ptr<CurveAuthenticator> authenticator_;  // before the socket: see curve.h
  zmq::socket_t socket_;
  zmq::socket_t monitor_;
  pipeline::PublisherStats& stats_;
  std::vector<std::string> bound_;
};

}  // namespace rivulet::connectors
