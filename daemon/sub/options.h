// rivulet-sub's command line: what it subscribes to, how it prints, when it stops. Errors are
// usage errors (exit 2), each saying what is wrong with which option.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace rivulet::daemon {

enum class SubFormat { kJson, kTable };
enum class SubCommand { kRun, kHelp, kVersion };

struct SubOptions {
  SubCommand command = SubCommand::kRun;
  std::string endpoint;               // as ZeroMQ takes it: HOST:PORT becomes tcp://HOST:PORT
  std::vector<std::string> prefixes;  // as given; none: every pipeline
  SubFormat format = SubFormat::kJson;
  bool with_topic = false;
  bool markers = false;
  bool late = false;
  long long count = -1;  // -1: no limit
  std::optional<std::chrono::nanoseconds> timeout;
  std::string curve_key;  // with curve_server_key, or neither
  std::string curve_server_key;
};

// Reads the arguments after the program name. -h/--help and -V/--version end the reading (the
// command says which; the other fields are then incomplete). nullopt with `error` set when the
// command line is wrong.
std::optional<SubOptions> parseSubOptions(const std::vector<std::string>& args, std::string& error);

// ZeroMQ's endpoint for what was typed: a URL as it is, HOST:PORT as tcp://HOST:PORT; nullopt
// for anything else.
std::optional<std::string> subEndpoint(const std::string& text);

extern const char* const kSubUsage;

}  // namespace rivulet::daemon
