// UdpSource: one event per datagram (JSON, or a CSV row) from a bound UDP socket. Datagrams are
// taken kBatch at a time with one recvmmsg call into fixed slots; one longer than max_datagram is
// counted as truncated, not parsed. UDP cannot slow its senders: with overflow: block the source
// waits for ring room while the socket buffer (rcvbuf) fills and the kernel drops datagrams
// (counted from SO_RXQ_OVFL, and from SO_MEMINFO when the queue runs empty and at the end); with
// overflow: drop it drops events at the ring instead.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "connectors/formats/event_decoder.h"
#include "connectors/sources/source.h"

namespace rivulet::connectors {

class UdpSource final : public Source {
 public:
  // Datagrams taken per recvmmsg call.
  static constexpr std::size_t kBatch = 64;

  // Binds now, so that a port in use fails at start-up. `stats`, if given, gets the bytes read
  // (the router has the rest of the source's counters).
  UdpSource(const config::SourceConfig& spec, pipeline::EventRouter router,
            pipeline::SourceStats* stats = nullptr);
  ~UdpSource() override;
  void run(std::stop_token stop) override;
  bool bounded() const override { return false; }
  std::string where() const override;
  std::vector<std::string> warnings() const override { return warnings_; }

  // The bound port (useful when the config said port 0).
  std::uint16_t port() const noexcept { return port_; }

 private:
  // Decodes the n datagrams recvmmsg returned.
  void decode(std::size_t n) noexcept;
  // Counts the kernel's drops from SO_MEMINFO: when the queue is empty and at the end, since
  // SO_RXQ_OVFL reports them only with a later datagram, and after a burst there may be none.
  void readSocketDrops() noexcept;
  // Counts the kernel's drop count `drops` (as SO_RXQ_OVFL or SO_MEMINFO report it) if it is
  // newer than the last seen.
  void countSocketDrops(std::uint32_t drops) noexcept;

  const std::string name_;
  const config::UdpSpec spec_;
  pipeline::EventRouter router_;
  pipeline::SourceStats* stats_;  // may be null
  EventDecoder decoder_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::size_t slot_size_ = 0;  // max_datagram + the parser's padding
  std::vector<char> slots_;    // kBatch slots of slot_size_ bytes
  std::vector<mmsghdr> headers_;
  std::vector<iovec> iovecs_;
  // Per slot, room for the SO_RXQ_OVFL control message (the kernel's drop count).
  std::vector<char> controls_;
  std::size_t control_size_ = 0;
  std::uint32_t socket_drops_ = 0;  // the kernel's count, as last seen
  std::vector<std::string> warnings_;
};

}  // namespace rivulet::connectors
