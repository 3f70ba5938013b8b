// Subscriptions an XPUB receives (zmq_subscriptions.h).
#include "tests/support/zmq_subscriptions.h"

#include <algorithm>

namespace rivulet::testutil {

std::vector<std::string> receiveSubscriptions(zmq::socket_t& xpub, std::size_t n,
                                              std::chrono::milliseconds timeout) {
  xpub.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeout.count()));
  std::vector<std::string> subscriptions;
  while (subscriptions.size() < n) {
    zmq::message_t message;
    if (!xpub.recv(message)) break;
    subscriptions.push_back(message.to_string());
  }
  std::sort(subscriptions.begin(), subscriptions.end());
  return subscriptions;
}

}  // namespace rivulet::testutil
