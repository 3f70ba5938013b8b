// Harness for the integration tests: the real rivuletd as a child process in a fresh temp dir,
// its log read for the ports it bound (process.h), a ZeroMQ subscriber over tcp:// and ipc://
// (subscriber.h), a minimal HTTP client and parser for /metrics (http.h), result payload parsing
// (results.h), a brute-force window reference that re-aggregates the events a test sent
// (reference.h), a NOTIFY_SOCKET for sd_notify (notify.h), and engine threads found by name and
// stopped one at a time (threads.h). Every wait is on a condition with a deadline (files.h).
#pragma once

#include "tests/integration/harness/files.h"
#include "tests/integration/harness/http.h"
#include "tests/integration/harness/notify.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/reference.h"
#include "tests/integration/harness/results.h"
#include "tests/integration/harness/subscriber.h"
#include "tests/integration/harness/threads.h"
