#include "config/endpoint.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <string>

#include "config/text/message_text.h"

namespace rivulet::config {
namespace {

bool isHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

bool isIpv6(const std::string& text) {
  in6_addr address;
  return inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

}  // namespace

std::optional<Endpoint> parseEndpoint(std::string_view text, std::string* error) {
  const std::string quoted = quote(text);
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    *error = quoted + " is not host:port (e.g. 127.0.0.1:9464)";
    return std::nullopt;
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);

  Endpoint endpoint;
  if (host.empty()) {
    *error = quoted + " has no host (e.g. 127.0.0.1:9464)";
    return std::nullopt;
  }
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      *error = quoted + " is not host:port (an IPv6 address goes in brackets, e.g. [::1]:9464)";
      return std::nullopt;
    }
    endpoint.host = std::string(host.substr(1, host.size() - 2));
    if (!isIpv6(endpoint.host)) {
      *error = quoted + ": " + quote(endpoint.host) + " is not an IPv6 address";
      return std::nullopt;
    }
  } else if (host.find(':') != std::string_view::npos) {
    *error = quoted + " is not host:port (an IPv6 address goes in brackets, e.g. [::1]:9464)";
    return std::nullopt;
  } else {
    for (const char c : host) {
      if (!isHostNameChar(c)) {
        *error = quoted + ": " + quote(host) + " is not a host name or address";
        return std::nullopt;
      }
    }
    endpoint.host = std::string(host);
  }

  unsigned port = 0;
  const char* end = port_text.data() + port_text.size();
  const bool digits_only =
      !port_text.empty() && port_text.find_first_not_of("0123456789") == std::string_view::npos;
  const auto result = std::from_chars(port_text.data(), end, port);
  if (!digits_only || result.ptr != end || result.ec != std::errc() || port > 65535) {
    *error = quoted + ": port must be a number in 0..65535";
    return std::nullopt;
  }
  endpoint.port = static_cast<std::uint16_t>(port);
  return endpoint;
}

std::string formatEndpoint(const Endpoint& endpoint) {
  const bool v6 = endpoint.host.find(':') != std::string::npos;
  return (v6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + std::to_string(endpoint.port);
}

bool hasScheme(std::string_view text, std::span<const std::string_view> schemes) {
  return std::any_of(schemes.begin(), schemes.end(), [&](std::string_view scheme) {
    return text.size() > scheme.size() && text.starts_with(scheme);
  });
}

}  // namespace rivulet::config
