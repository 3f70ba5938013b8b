// "host:port" text, as in `daemon.metrics` and a tcp source's `listen`, and back.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/config.h"

namespace rivulet::config {

// Parses "host:port" with a port of 0..65535. The host is a name or IPv4 address
// ("127.0.0.1:9464", "localhost:80") or an IPv6 address in brackets ("[::1]:9464"), which is
// stored without the brackets. On failure returns nullopt and sets *error to a message that quotes
// `text`.
std::optional<Endpoint> parseEndpoint(std::string_view text, std::string* error);

// "host:port", with an IPv6 host put back in brackets: what getaddrinfo callers split and what
// prometheus-cpp's Exposer takes.
std::string formatEndpoint(const Endpoint& endpoint);

// True if `text` starts with one of `schemes` ("tcp://") and has more after it: the check a
// ZeroMQ endpoint gets before ZeroMQ itself parses it at bind or connect.
bool hasScheme(std::string_view text, std::span<const std::string_view> schemes);

}  // namespace rivulet::config
