// The threads of a child: found by name (comm), and one stopped on its own with ptrace while the
// others run on — a stalled engine thread, for real.
#pragma once

#include <dirent.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/integration/harness/files.h"

namespace rivulet::itest {

// The thread of `pid` whose name (comm) is `name`; 0 if there is none.
inline pid_t threadNamed(pid_t pid, const std::string& name) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(tasks.c_str());
  if (dir == nullptr) return 0;
  pid_t found = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::string comm = readFile(tasks + "/" + entry->d_name + "/comm");
    if (!comm.empty() && comm.back() == '\n') comm.pop_back();
    if (comm == name) found = static_cast<pid_t>(std::atoi(entry->d_name));
  }
  closedir(dir);
  return found;
}

// Stops one thread of a child with ptrace, leaving its other threads running: PTRACE_SEIZE
// attaches without stopping, PTRACE_INTERRUPT stops just that thread. Detaching (resume(), or on
// destruction) lets it run on where it was.
class ThreadStop {
 public:
  explicit ThreadStop(pid_t tid) : tid_(tid) {
    if (ptrace(PTRACE_SEIZE, tid_, nullptr, nullptr) != 0) {
      refused_ = errno == EPERM;
      error_ = std::string("PTRACE_SEIZE: ") + std::strerror(errno);
      return;
    }
    attached_ = true;
    if (ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr) != 0) {
      error_ = std::string("PTRACE_INTERRUPT: ") + std::strerror(errno);
      return;
    }
    int status = 0;
    waitUntil(
        [&] {
          const pid_t r = waitpid(tid_, &status, WNOHANG | __WALL);
          stopped_ = r == tid_ && WIFSTOPPED(status);
          return r != 0;
        },
        10s, 1ms);
    if (!stopped_) error_ = "the thread did not stop";
  }
  ~ThreadStop() { resume(); }
  ThreadStop(const ThreadStop&) = delete;
  ThreadStop& operator=(const ThreadStop&) = delete;

  bool stopped() const { return stopped_; }
  // Not permitted (Yama's ptrace_scope 2 or 3, a seccomp filter): nothing to test with here.
  bool refused() const { return refused_; }
  const std::string& error() const { return error_; }
  void resume() {
    if (attached_) ptrace(PTRACE_DETACH, tid_, nullptr, nullptr);
    attached_ = stopped_ = false;
  }

 private:
  pid_t tid_;
  bool attached_ = false;
  bool stopped_ = false;
  bool refused_ = false;
  std::string error_;
};

}  // namespace rivulet::itest
