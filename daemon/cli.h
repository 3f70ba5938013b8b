// Command-line parsing for rivuletd. Exit codes are part of the interface (see --help).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace rivulet::daemon {

enum ExitCode : int {
  kExitOk = 0,           // ran to completion, or stopped cleanly by a signal; --check: valid
  kExitBadConfig = 1,    // the config has errors (all printed)
  kExitUsage = 2,        // bad command line
  kExitStartFailed = 3,  // could not start (port in use, unreadable input, ...)
};

struct Options {
  std::string config;
  bool check = false;
  bool discard_checkpoint = false;
  bool help = false;
  bool version = false;
  std::optional<std::string> log_level;
  std::optional<std::string> curve_keypair;  // write PREFIX.secret and PREFIX.public, and exit
};

// Parses argv; on error returns nullopt and sets `error`.
std::optional<Options> parseOptions(const std::vector<std::string>& args, std::string& error);

extern const char* const kUsage;

}  // namespace rivulet::daemon
