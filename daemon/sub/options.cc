#include "daemon/sub/options.h"

#include <algorithm>
#include <charconv>

#include "config/duration.h"

namespace rivulet::daemon {

const char* const kSubUsage =
    R"usage(usage: rivulet-sub [--format json|table] [--topic] [--markers] [--late] [--count N]
                   [--timeout DURATION] [--curve-key FILE --curve-server-key FILE]
                   ENDPOINT [TOPIC-PREFIX...]
       rivulet-sub --version | --help

Prints every result published on ENDPOINT (tcp://HOST:PORT, or HOST:PORT for short, or
ipc://PATH) as one JSON line. Prefixes filter by topic: "volume_1m/" is one pipeline,
"volume_1m/AAPL/" one key of it. No prefix: every pipeline.

  --format json|table
              json (default): each payload as it came, one line each; table: aligned rows of
              window (UTC), pipeline, kind, key and values under a header, flushed per row
  --topic     print "TOPIC PAYLOAD" instead of the payload alone (json)
  --markers   also print the end-of-window markers (_window/PIPELINE/) of the pipelines
              subscribed to (a table shows them as kind "end")
  --late      also print the late events they republish (_late/PIPELINE/, for pipelines with
              late: {topic: true}; a table shows them as kind "late")
  --count N   exit after N messages printed
  --timeout DURATION
              exit once nothing was printed for DURATION (e.g. 500ms, 10s, 1m)
  --curve-key FILE
              this subscriber's CURVE secret key (rivuletd --curve-keypair writes one); its
              public key must be in the daemon's publish_curve.clients directory
  --curve-server-key FILE
              the daemon's CURVE public key (the .public of its publish_curve.secret_key)
  -V, --version
              print the version and exit
  -h, --help  print this help and exit

Markers and late events show as they came, like results; a TOPIC-PREFIX starting with
"_window/" or "_late/" asks for them too. If nothing has arrived 2 s after the start,
rivulet-sub says so on stderr, once, naming the endpoint and what it subscribed to.

Results the publisher dropped for this subscriber (it was more than daemon.publish_hwm results
behind) show as a gap in a pipeline's seq; when every result of the pipeline is subscribed to,
each gap is reported on stderr: "rivulet-sub: missed N results of PIPELINE (seq A..B)".

Exit codes: 0 stopped by SIGINT/SIGTERM, N messages printed, or --timeout after at least one
message; 1 cannot connect (also: the daemon refused this subscriber's key, or the handshake
failed); 2 bad command line; 3 --timeout passed without any message printed.
)usage";

std::optional<std::string> subEndpoint(const std::string& text) {
  if (text.find("://") != std::string::npos) return text;
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size() ||
      !std::all_of(text.begin() + static_cast<std::ptrdiff_t>(colon) + 1, text.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return "tcp://" + text;
}

std::optional<SubOptions> parseSubOptions(const std::vector<std::string>& args,
                                          std::string& error) {
  SubOptions o;
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const std::string flag = arg.rfind("--", 0) == 0 ? arg.substr(0, arg.find('=')) : arg;
    const bool inline_value = flag.size() < arg.size();
    const auto value = [&](std::string& out) {
      if (inline_value) {
        out = arg.substr(flag.size() + 1);
        return true;
      }
      if (i + 1 >= args.size()) {
        error = flag + " needs a value";
        return false;
      }
      out = args[++i];
      return true;
    };
    const auto no_value = [&] {
      if (inline_value) error = flag + " takes no value";
      return !inline_value;
    };
    std::string text;
    if (flag == "--topic" || flag == "--markers" || flag == "--late") {
      if (!no_value()) return std::nullopt;
      (flag == "--topic" ? o.with_topic : flag == "--markers" ? o.markers : o.late) = true;
    } else if (flag == "--format") {
      if (!value(text)) return std::nullopt;
      if (text != "json" && text != "table") {
        error = "--format: \"" + text + "\" is not json or table";
        return std::nullopt;
      }
      o.format = text == "json" ? SubFormat::kJson : SubFormat::kTable;
    } else if (flag == "--count") {
      if (!value(text)) return std::nullopt;
      const char* end = text.data() + text.size();
      if (std::from_chars(text.data(), end, o.count).ptr != end || text.empty() || o.count < 1) {
        error = "--count: \"" + text + "\" is not a positive integer";
        return std::nullopt;
      }
    } else if (flag == "--timeout") {
      if (!value(text)) return std::nullopt;
      const auto timeout = config::parseDuration(text);
      if (!timeout || *timeout <= 0) {
        error = "--timeout: \"" + text + "\" is not a positive duration (use e.g. 500ms, 10s, 1m)";
        return std::nullopt;
      }
      o.timeout = std::chrono::nanoseconds(*timeout);
    } else if (flag == "--curve-key") {
      if (!value(o.curve_key)) return std::nullopt;
    } else if (flag == "--curve-server-key") {
      if (!value(o.curve_server_key)) return std::nullopt;
    } else if (flag == "-h" || flag == "--help" || flag == "-V" || flag == "--version") {
      if (!no_value()) return std::nullopt;
      o.command = flag == "-h" || flag == "--help" ? SubCommand::kHelp : SubCommand::kVersion;
      return o;
    } else if (arg.size() > 1 && arg[0] == '-') {
      error = "unknown option " + arg;
      return std::nullopt;
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.empty()) {
    error = "no ENDPOINT";
    return std::nullopt;
  }
  if (o.curve_key.empty() != o.curve_server_key.empty()) {
    error = "--curve-key and --curve-server-key go together";
    return std::nullopt;
  }
  const auto endpoint = subEndpoint(positional[0]);
  if (!endpoint) {
    error = "\"" + positional[0] + "\" is not an endpoint (use tcp://HOST:PORT, HOST:PORT or " +
            "ipc://PATH)";
    return std::nullopt;
  }
  o.endpoint = *endpoint;
  o.prefixes.assign(positional.begin() + 1, positional.end());
  return o;
}

}  // namespace rivulet::daemon
