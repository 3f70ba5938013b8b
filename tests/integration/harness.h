// Harness for the integration tests: the YAML they start rivuletd with (daemon_yaml.h), the real
// rivuletd as a child process in a fresh temp dir, its log read for the ports it bound
// (process.h), a ZeroMQ subscriber over tcp:// and ipc:// (subscriber.h) and the fixture of a
// daemon with a subscriber (subscribed_daemon.h), result payload parsing
// (results.h), a brute-force window reference that re-aggregates the events a test sent
// (reference.h), a NOTIFY_SOCKET for sd_notify (notify.h), and engine threads found by name and
// stopped one at a time (threads.h); with the shared test support it builds on: temp dirs and
// files, waiting on a condition with a deadline, an HTTP client and a parser for /metrics,
// loopback sockets (tests/support/).
#pragma once

#include "tests/integration/harness/daemon_yaml.h"
#include "tests/integration/harness/notify.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/reference.h"
#include "tests/integration/harness/results.h"
#include "tests/integration/harness/subscribed_daemon.h"
#include "tests/integration/harness/subscriber.h"
#include "tests/integration/harness/threads.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/metrics.h"
#include "tests/support/sockets.h"
#include "tests/support/wait.h"
