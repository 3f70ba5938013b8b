#include "daemon/log.h"

#include <time.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace rivulet::daemon {
namespace {
std::atomic<LogLevel> g_level{LogLevel::kInfo};
const bool g_journal = std::getenv("JOURNAL_STREAM") != nullptr;

const char* levelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}
}  // namespace

bool parseLogLevel(std::string_view text, LogLevel& level) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (text == levelName(l)) {
      level = l;
      return true;
    }
  }
  return false;
}

void setLogLevel(LogLevel level) { g_level.store(level, std::memory_order_relaxed); }

void log(LogLevel level, std::string_view message) {
  if (static_cast<int>(level) > static_cast<int>(g_level.load(std::memory_order_relaxed))) return;
  std::string line;
  if (g_journal) {
    line = "<" + std::to_string(static_cast<int>(level)) + ">";
  } else {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    tm utc;
    gmtime_r(&ts.tv_sec, &utc);
    char stamp[64];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  ts.tv_nsec / 1'000'000);
    line = stamp;
    line += levelName(level);
    line += ' ';
  }
  line.append(message);
  line.push_back('\n');
  // One write per line: lines from different threads do not interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace rivulet::daemon
