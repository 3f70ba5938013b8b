// Rates measured over several runs, as the Kafka benchmarks report them: per run a rate and the
// process's CPU per item; over the runs the median, the spread and the median CPU.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace rivulet::bench {

inline double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// CPU seconds of the whole process (every thread), user and system.
inline double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Rate {
  double per_second;  // messages or events
  double cpu_ns;      // process CPU per message or event
};

struct Stats {
  double median, low, high, cpu_ns;
};
inline Stats stats(const std::vector<Rate>& rates) {
  std::vector<double> v, cpu;
  for (const Rate& r : rates) {
    v.push_back(r.per_second);
    cpu.push_back(r.cpu_ns);
  }
  std::sort(v.begin(), v.end());
  std::sort(cpu.begin(), cpu.end());
  return {v[v.size() / 2], v.front(), v.back(), cpu[cpu.size() / 2]};
}

}  // namespace rivulet::bench
