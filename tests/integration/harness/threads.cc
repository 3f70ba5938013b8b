// Threads of a child found by name and stopped one at a time (threads.h).
#include "tests/integration/harness/threads.h"

#include <dirent.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "tests/support/files.h"
#include "tests/support/wait.h"

namespace rivulet::testutil {

pid_t threadNamed(pid_t pid, const std::string& name) {
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

ThreadStop::ThreadStop(pid_t tid) : tid_(tid) {
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

void ThreadStop::resume() {
  if (attached_) ptrace(PTRACE_DETACH, tid_, nullptr, nullptr);
  attached_ = stopped_ = false;
}

}  // namespace rivulet::testutil
