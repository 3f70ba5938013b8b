// Logging to stderr, one line per message. Under systemd (JOURNAL_STREAM set) each line starts
// with its sd-daemon priority ("<6>"), so journald records levels; otherwise with a UTC time.
#pragma once

#include <string_view>

namespace rivulet::daemon {

enum class LogLevel { kDebug = 7, kInfo = 6, kWarn = 4, kError = 3 };

bool parseLogLevel(std::string_view text, LogLevel& level);
void setLogLevel(LogLevel level);
void log(LogLevel level, std::string_view message);

inline void logDebug(std::string_view m) { log(LogLevel::kDebug, m); }
inline void logInfo(std::string_view m) { log(LogLevel::kInfo, m); }
inline void logWarn(std::string_view m) { log(LogLevel::kWarn, m); }
inline void logError(std::string_view m) { log(LogLevel::kError, m); }

}  // namespace rivulet::daemon
