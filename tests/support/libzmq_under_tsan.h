// For a test binary that runs libzmq under ThreadSanitizer; include it in one file of the binary.
// libzmq is not built with ThreadSanitizer: its lock-free pipes hand each message from the thread
// that sends it to its I/O thread with atomics TSan cannot see, so every message would be
// reported as a race. Accesses libzmq itself makes are ignored; ours are still checked.
#pragma once

#if defined(__SANITIZE_THREAD__)
extern "C" const char* __tsan_default_suppressions();
extern "C" const char* __tsan_default_suppressions() { return "called_from_lib:libzmq.so\n"; }
#endif
