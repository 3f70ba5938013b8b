#include "connectors/sources/udp_source.h"

#include <errno.h>
#include <linux/sock_diag.h>
#include <unistd.h>

#include <cstring>

#include "config/endpoint.h"
#include "connectors/formats/line_framer.h"
#include "connectors/sources/inet_socket.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::connectors {
namespace {

// How long a receive waits for the first datagram: how soon a stop request or an idle timeout
// is noticed.
constexpr long kWaitUs = 20'000;

}  // namespace

UdpSource::UdpSource(const config::SourceConfig& spec, pipeline::EventRouter router,
                     pipeline::SourceStats* stats)
    : name_(spec.name),
      spec_(spec.udp),
      router_(std::move(router)),
      stats_(stats),
      decoder_(router_, spec) {
  // Blocking, with a receive timeout: recvmmsg(MSG_WAITFORONE) then waits for the first datagram
  // of a batch and takes the rest without waiting, one system call per batch.
  fd_ = bindInet(name_, spec_.listen, SOCK_DGRAM, 0);
  port_ = localPort(fd_);
  const timeval wait{0, kWaitUs};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  const int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
  if (spec_.rcvbuf > 0) {
    // SO_RCVBUFFORCE passes net.core.rmem_max, with CAP_NET_ADMIN; else the limit applies.
    const int asked = static_cast<int>(spec_.rcvbuf);
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &asked, sizeof asked) != 0) {
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &asked, sizeof asked);
    }
    int granted = 0;
    socklen_t size = sizeof granted;
    getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &granted, &size);
    // The kernel reports twice what it grants (the other half is its bookkeeping).
    if (granted / 2 < asked) {
      warnings_.push_back("source " + name_ + ": rcvbuf " + std::to_string(asked) +
                          " bytes asked, the kernel allows " + std::to_string(granted / 2) +
                          " (raise net.core.rmem_max, or run with CAP_NET_ADMIN)");
    }
  }

  slot_size_ = static_cast<std::size_t>(spec_.max_datagram) + LineFramer::kPadding;
  slots_.resize(kBatch * slot_size_);
  control_size_ = CMSG_SPACE(sizeof(std::uint32_t));
  controls_.resize(kBatch * control_size_);
  headers_.resize(kBatch);
  iovecs_.resize(kBatch);
  for (std::size_t i = 0; i < kBatch; ++i) {
    // One byte more than max_datagram could not tell a datagram of exactly max_datagram bytes
    // from a longer one; the iovec's length makes the kernel set MSG_TRUNC instead.
    iovecs_[i] = iovec{&slots_[i * slot_size_], static_cast<std::size_t>(spec_.max_datagram)};
    headers_[i].msg_hdr.msg_iov = &iovecs_[i];
    headers_[i].msg_hdr.msg_iovlen = 1;
  }
}

UdpSource::~UdpSource() {
  if (fd_ >= 0) ::close(fd_);
}

std::string UdpSource::where() const {
  return "listening on " + config::formatEndpoint({spec_.listen.host, port_});
}

void UdpSource::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    // The kernel overwrites the control length and the flags of each header it fills.
    for (std::size_t i = 0; i < kBatch; ++i) {
      headers_[i].msg_hdr.msg_control = &controls_[i * control_size_];
      headers_[i].msg_hdr.msg_controllen = control_size_;
      headers_[i].msg_hdr.msg_flags = 0;
    }
    const int n = recvmmsg(fd_, headers_.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (n > 0) {
      decode(static_cast<std::size_t>(n));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      // The wait timed out: the queue was empty. Drops since the last datagram we took came
      // with no datagram to carry their count; read it from the socket itself.
      readSocketDrops();
    }
    // Other errors (ECONNREFUSED after an ICMP error, EINTR) leave the socket usable: try again.
    router_.flush(pipeline::wallNanos(), pipeline::steadyNanos());
  }
  readSocketDrops();
  router_.end(true);
}

void UdpSource::readSocketDrops() noexcept {
  // SO_MEMINFO's SK_MEMINFO_DROPS is the counter SO_RXQ_OVFL reports (the socket's sk_drops).
  std::uint32_t meminfo[SK_MEMINFO_VARS] = {};
  socklen_t size = sizeof meminfo;
  if (getsockopt(fd_, SOL_SOCKET, SO_MEMINFO, meminfo, &size) != 0 ||
      size <= SK_MEMINFO_DROPS * sizeof meminfo[0]) {
    return;
  }
  countSocketDrops(meminfo[SK_MEMINFO_DROPS]);
}

void UdpSource::countSocketDrops(std::uint32_t drops) noexcept {
  // The count only grows, but a datagram's SO_RXQ_OVFL copy was taken when it was queued: one
  // queued before the last SO_MEMINFO read carries an older count. Only a newer one is counted
  // (in wrapping arithmetic, so a wrap of the kernel's 32-bit counter is right too).
  const auto ahead = static_cast<std::int32_t>(drops - socket_drops_);
  if (ahead <= 0) return;
  router_.countSocketDrops(static_cast<std::uint32_t>(ahead));
  socket_drops_ = drops;
}

void UdpSource::decode(std::size_t n) noexcept {
  const std::int64_t now = pipeline::wallNanos();
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const msghdr& header = headers_[i].msg_hdr;
    bytes += headers_[i].msg_len;
    if (header.msg_flags & MSG_TRUNC) {
      decoder_.refuse(pipeline::ErrorReason::kTruncated);
      continue;
    }
    decoder_.message({&slots_[i * slot_size_], headers_[i].msg_len}, slot_size_, now);
  }
  if (stats_ != nullptr) pipeline::bump(stats_->bytes, bytes);
  // SO_RXQ_OVFL: a datagram carries the socket's drop count at the time it was queued, when it
  // is not 0. The count only grows, so the batch's last datagram has the latest.
  msghdr& last = headers_[n - 1].msg_hdr;
  for (cmsghdr* c = CMSG_FIRSTHDR(&last); c != nullptr; c = CMSG_NXTHDR(&last, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL) continue;
    std::uint32_t drops = 0;
    std::memcpy(&drops, CMSG_DATA(c), sizeof drops);
    countSocketDrops(drops);
  }
}

}  // namespace rivulet::connectors
