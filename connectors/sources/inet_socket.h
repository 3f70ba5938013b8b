// Binding the sockets of the tcp and udp sources to a config Endpoint (host:port).
#pragma once

#include <cstdint>
#include <string>

#include "config/config.h"

namespace rivulet::connectors {

// A close-on-exec socket of `type` (SOCK_STREAM, listening, with SO_REUSEADDR; or SOCK_DGRAM,
// without it, so that a port in use fails) with `flags` (e.g. SOCK_NONBLOCK), bound to the first
// address `endpoint` resolves to that takes it. Throws std::runtime_error naming `source` and the
// endpoint when none does.
int bindInet(const std::string& source, const config::Endpoint& endpoint, int type, int flags);

// The port a bound socket got (the one the kernel chose for port 0).
std::uint16_t localPort(int fd);

}  // namespace rivulet::connectors
