#include "daemon/signals.h"

#include <pthread.h>

namespace rivulet::daemon {

ProcessSignals::ProcessSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int ProcessSignals::wait(std::int64_t timeout_ns) {
  const timespec timeout{static_cast<time_t>(timeout_ns / 1'000'000'000),
                         static_cast<long>(timeout_ns % 1'000'000'000)};
  const int sig = sigtimedwait(&signals_, nullptr, &timeout);
  return sig > 0 ? sig : 0;  // -1: the timeout (EAGAIN) or another signal's handler (EINTR)
}

}  // namespace rivulet::daemon
