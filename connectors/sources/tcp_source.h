// TcpSource: a listening socket accepting many clients at once, each sending lines (JSON, or CSV
// with a header line per connection if so configured). One epoll loop on the source thread serves
// them all; a client that sends garbage or vanishes mid-line costs only its own line.
#pragma once

#include <memory>
#include <unordered_map>

#include "connectors/formats/event_decoder.h"
#include "connectors/sources/source.h"

namespace rivulet::connectors {

class TcpSource final : public Source {
 public:
  // Binds and listens now, so a port in use fails at start-up. `stats`, if given, gets the bytes
  // read and the clients connected (the router has the rest of the source's counters).
  TcpSource(const config::SourceConfig& spec, pipeline::EventRouter router,
            pipeline::SourceStats* stats = nullptr);
  ~TcpSource() override;
  void run(std::stop_token stop) override;
  bool bounded() const override { return false; }
  std::string where() const override;

  // The bound port (useful when the config said port 0).
  std::uint16_t port() const noexcept { return port_; }

 private:
  struct Client;
  void accept();
  void read(int fd, Client& client);
  void close(int fd);
  void countConnections() noexcept;

  const std::string name_;
  const config::TcpSpec spec_;
  pipeline::EventRouter router_;
  pipeline::SourceStats* stats_;  // may be null
  EventDecoder decoder_;          // one for all clients: they share this thread
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  std::uint16_t port_ = 0;
  bool accept_paused_ = false;  // out of descriptors: the listening socket is out of epoll
  std::unordered_map<int, std::unique_ptr<Client>> clients_;
};

}  // namespace rivulet::connectors
