// rivuletd: parses the command line, loads the config and hands it to the Daemon
// (daemon/daemon.h), which runs it.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "config/curve_key.h"
#include "config/loader.h"
#include "daemon/cli.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/signals.h"
#include "daemon/tables/table_set.h"
#include "daemon/version.h"

namespace rd = rivulet::daemon;

int main(int argc, char** argv) {
  std::string error;
  const auto options = rd::parseOptions({argv + 1, argv + argc}, error);
  if (!options) {
    std::fprintf(stderr, "rivuletd: %s\n\n%s", error.c_str(), rd::kUsage);
    return rd::kExitUsage;
  }
  if (options->help) {
    std::fputs(rd::kUsage, stdout);
    return rd::kExitOk;
  }
  if (options->version) {
    std::printf("rivuletd %s\n", rivulet::kVersion);
    return rd::kExitOk;
  }
  if (options->curve_keypair) {
    if (!rivulet::config::writeCurveKeyPair(*options->curve_keypair, error)) {
      std::fprintf(stderr, "rivuletd: %s\n", error.c_str());
      return rd::kExitStartFailed;
    }
    std::printf("wrote %s.secret and %s.public\n", options->curve_keypair->c_str(),
                options->curve_keypair->c_str());
    return rd::kExitOk;
  }

  const rivulet::config::LoadResult loaded = rivulet::config::loadFile(options->config);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.toString().c_str());
    std::fprintf(stderr, "%s: %zu error%s\n", options->config.c_str(), loaded.errors.size(),
                 loaded.errors.size() == 1 ? "" : "s");
    return rd::kExitBadConfig;
  }
  if (options->check) {
    const std::vector<std::string> errors = rd::checkTables(*loaded.config);
    for (const std::string& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
    if (!errors.empty()) {
      std::fprintf(stderr, "%s: %zu error%s\n", options->config.c_str(), errors.size(),
                   errors.size() == 1 ? "" : "s");
      return rd::kExitBadConfig;
    }
    std::printf("%s\n", rivulet::config::summary(*loaded.config).c_str());
    return rd::kExitOk;
  }
  rd::LogLevel level = rd::LogLevel::kInfo;
  const std::string& level_text = options->log_level.value_or(loaded.config->daemon.log_level);
  if (!rd::parseLogLevel(level_text, level)) {
    std::fprintf(stderr, "rivuletd: unknown log level \"%s\"\n", level_text.c_str());
    return rd::kExitUsage;
  }
  rd::setLogLevel(level);

  rd::ProcessSignals signals;  // before any thread exists, so that every thread inherits the mask
  std::unique_ptr<rd::Daemon> daemon;
  try {
    daemon = std::make_unique<rd::Daemon>(*options, *loaded.config);
  } catch (const rd::StartError& e) {
    rd::logError(std::string("cannot start: ") + e.what());
    return rd::kExitStartFailed;
  }
  const int code = daemon->run(signals);
  // Destroying the daemon would wait for the drain the second stop signal cut short.
  if (daemon->abandoned()) std::_Exit(code);
  return code;
}
