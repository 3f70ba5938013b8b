// The requests the daemon's main loop waits for: a stop (SIGINT, SIGTERM) or a reload (SIGHUP).
// `SignalSource` is what the loop waits on, so that a test can deliver them in-process;
// `ProcessSignals` is the process's own, taken synchronously with sigtimedwait.
#pragma once

#include <signal.h>

#include <cstdint>

namespace rivulet::daemon {

class SignalSource {
 public:
  virtual ~SignalSource() = default;
  // Waits up to `timeout_ns` for a signal; returns its number, or 0 when none came in time.
  // Called by the thread that runs the daemon's loop only.
  virtual int wait(std::int64_t timeout_ns) = 0;
};

// Blocks SIGINT, SIGTERM and SIGHUP in the constructing thread and ignores SIGPIPE (a closed
// connection is an error return, not a death). Construct it before any thread exists: threads
// inherit the mask, so the signals reach no thread but the one that waits for them.
class ProcessSignals final : public SignalSource {
 public:
  ProcessSignals();
  int wait(std::int64_t timeout_ns) override;

 private:
  sigset_t signals_;
};

}  // namespace rivulet::daemon
