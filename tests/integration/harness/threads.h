// The threads of a child: found by name (comm), and one stopped on its own with ptrace while the
// others run on — a stalled engine thread, for real.
#pragma once

#include <sys/types.h>

#include <string>

namespace rivulet::testutil {

// The thread of `pid` whose name (comm) is `name`; 0 if there is none.
pid_t threadNamed(pid_t pid, const std::string& name);

// Stops one thread of a child with ptrace, leaving its other threads running: PTRACE_SEIZE
// attaches without stopping, PTRACE_INTERRUPT stops just that thread. Detaching (resume(), or on
// destruction) lets it run on where it was.
class ThreadStop {
 public:
  explicit ThreadStop(pid_t tid);
  ~ThreadStop() { resume(); }
  ThreadStop(const ThreadStop&) = delete;
  ThreadStop& operator=(const ThreadStop&) = delete;

  bool stopped() const { return stopped_; }
  // Not permitted (Yama's ptrace_scope 2 or 3, a seccomp filter): nothing to test with here.
  bool refused() const { return refused_; }
  const std::string& error() const { return error_; }
  void resume();

 private:
  pid_t tid_;
  bool attached_ = false;
  bool stopped_ = false;
  bool refused_ = false;
  std::string error_;
};

}  // namespace rivulet::testutil
