// What an XPUB socket of a test sees of its subscribers: their subscription messages, so that a
// test sends only once every subscription is in place (a publisher drops what none matches yet).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>
#include <zmq.hpp>

namespace rivulet::testutil {

// The first `n` subscription messages `xpub` receives ("\x01" and the prefix), sorted; fewer if
// one does not come within `timeout`.
std::vector<std::string> receiveSubscriptions(zmq::socket_t& xpub, std::size_t n,
                                              std::chrono::milliseconds timeout);

}  // namespace rivulet::testutil
