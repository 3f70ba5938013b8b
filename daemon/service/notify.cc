#include "daemon/service/notify.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <string>

#include "pipeline/runtime/clock.h"

namespace rivulet::daemon {

ServiceNotifier::ServiceNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) watchdog_ns_ = static_cast<std::int64_t>(usec) * 1000;
}

void ServiceNotifier::ready(std::string_view status) { send("READY=1", status); }

void ServiceNotifier::status(std::string_view status) { send({}, status); }

void ServiceNotifier::reloading(std::string_view status) {
  const std::string state =
      "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(pipeline::steadyNanos() / 1000);
  send(state, status);
}

void ServiceNotifier::stopping(std::string_view status) { send("STOPPING=1", status); }

void ServiceNotifier::watchdog() { send("WATCHDOG=1", {}); }

// One datagram per notice, the state first, so that a state and the status explaining it arrive
// together.
void ServiceNotifier::send(std::string_view state, std::string_view status) {
  if (!enabled_) return;
  std::string message(state);
  if (!status.empty()) {
    if (!message.empty()) message.push_back('\n');
    message.append("STATUS=");
    // One line: a newline would start another assignment (source names come from the config).
    for (const char c : status) message.push_back(c == '\n' ? ' ' : c);
  }
  sd_notify(0, message.c_str());
}

}  // namespace rivulet::daemon
