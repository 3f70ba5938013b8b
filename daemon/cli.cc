#include "daemon/cli.h"

namespace rivulet::daemon {

const char* const kUsage = R"(usage: rivuletd --config FILE [--check] [--log-level LEVEL]
                [--discard-checkpoint]
       rivuletd --curve-keypair PREFIX
       rivuletd --version | --help

rivulet: windowed stream aggregation, results published over ZeroMQ.

  -c, --config FILE     the YAML config to run (see README and examples/)
      --check           validate the config, print a summary or every error, and exit
      --log-level LEVEL debug | info | warn | error (overrides daemon.log_level)
      --discard-checkpoint
                        start afresh when the checkpoint in daemon.checkpoint.dir is corrupt
                        or from another config (it is moved aside, not deleted)
      --curve-keypair PREFIX
                        make a ZeroMQ CURVE key pair: write PREFIX.secret (mode 0600) and
                        PREFIX.public, for daemon.publish_curve, a zmq source's curve, and
                        rivulet-sub --curve-key
  -V, --version         print the version and exit
  -h, --help            print this help and exit

Signals: SIGTERM or SIGINT stop the sources, drain the rings, publish open windows as
"partial" (with daemon.checkpoint: take a last checkpoint instead, which the next start
resumes from) and exit 0. When every source is bounded, rivuletd exits 0 by itself once all
results are published.

Exit codes: 0 ok / config valid, 1 config errors, 2 bad command line, 3 could not start.
)";

std::optional<Options> parseOptions(const std::vector<std::string>& args, std::string& error) {
  Options options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](std::string& out) {
      const std::size_t eq = arg.find('=');
      if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
        out = arg.substr(eq + 1);
        return true;
      }
      if (i + 1 >= args.size()) {
        error = arg + " needs a value";
        return false;
      }
      out = args[++i];
      return true;
    };
    const std::string flag = arg.substr(0, arg.find('='));
    if (flag == "-c" || flag == "--config") {
      if (!value(options.config)) return std::nullopt;
    } else if (flag == "--log-level") {
      std::string level;
      if (!value(level)) return std::nullopt;
      options.log_level = level;
    } else if (flag == "--curve-keypair") {
      std::string prefix;
      if (!value(prefix)) return std::nullopt;
      options.curve_keypair = prefix;
    } else if (arg == "--check") {
      options.check = true;
    } else if (arg == "--discard-checkpoint") {
      options.discard_checkpoint = true;
    } else if (arg == "-h" || arg == "--help") {
      options.help = true;
    } else if (arg == "-V" || arg == "--version") {
      options.version = true;
    } else {
      error = "unknown argument \"" + arg + "\"";
      return std::nullopt;
    }
  }
  if (!options.help && !options.version && !options.curve_keypair && options.config.empty()) {
    error = "--config FILE is required";
    return std::nullopt;
  }
  return options;
}

}  // namespace rivulet::daemon
