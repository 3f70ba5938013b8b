#include "connectors/sources/inet_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "config/endpoint.h"

namespace rivulet::connectors {

int bindInet(const std::string& source, const config::Endpoint& endpoint, int type, int flags) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = type;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* addresses = nullptr;
  const std::string port = std::to_string(endpoint.port);
  const std::string where =
      "source " + source + ": listen " + config::formatEndpoint(endpoint) + ": ";
  if (const int rc = getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &addresses)) {
    throw std::runtime_error(where + gai_strerror(rc));
  }
  std::string error = "no address";
  int bound = -1;
  for (addrinfo* a = addresses; a != nullptr && bound < 0; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | flags | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    const bool stream = type == SOCK_STREAM;
    if (stream) {
      const int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && (!stream || listen(fd, 128) == 0)) {
      bound = fd;
    } else {
      error = std::strerror(errno);
      ::close(fd);
    }
  }
  freeaddrinfo(addresses);
  if (bound < 0) throw std::runtime_error(where + error);
  return bound;
}

std::uint16_t localPort(int fd) {
  sockaddr_storage bound{};
  socklen_t size = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &size);
  return ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

}  // namespace rivulet::connectors
