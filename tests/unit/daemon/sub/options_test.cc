// rivulet-sub's command line: every option in both forms (--flag VALUE, --flag=VALUE), the
// endpoint forms, where help and version end the reading, and every usage error with its message.
#include "daemon/sub/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace rivulet::daemon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kEndpoint = "tcp://127.0.0.1:5556";

SubOptions parsed(const std::vector<std::string>& args) {
  std::string error;
  const std::optional<SubOptions> options = parseSubOptions(args, error);
  EXPECT_TRUE(options.has_value()) << ::testing::PrintToString(args) << ": " << error;
  return options.value_or(SubOptions{});
}

std::string refused(const std::vector<std::string>& args) {
  std::string error;
  const std::optional<SubOptions> options = parseSubOptions(args, error);
  EXPECT_FALSE(options.has_value()) << ::testing::PrintToString(args);
  EXPECT_FALSE(error.empty()) << ::testing::PrintToString(args);
  return error;
}

TEST(SubOptions, AnEndpointAloneSubscribesToEverythingAsJson) {
  const SubOptions o = parsed({kEndpoint});
  EXPECT_EQ(o.command, SubCommand::kRun);
  EXPECT_EQ(o.endpoint, kEndpoint);
  EXPECT_THAT(o.prefixes, IsEmpty());
  EXPECT_EQ(o.format, SubFormat::kJson);
  EXPECT_FALSE(o.with_topic);
  EXPECT_FALSE(o.markers);
  EXPECT_FALSE(o.late);
  EXPECT_EQ(o.count, -1);
  EXPECT_FALSE(o.timeout.has_value());
  EXPECT_EQ(o.curve_key, "");
  EXPECT_EQ(o.curve_server_key, "");
}

TEST(SubOptions, EndpointsAreUrlsOrHostAndPort) {
  EXPECT_EQ(parsed({"127.0.0.1:5556"}).endpoint, "tcp://127.0.0.1:5556");
  EXPECT_EQ(parsed({"localhost:1"}).endpoint, "tcp://localhost:1");
  EXPECT_EQ(parsed({"[::1]:5556"}).endpoint, "tcp://[::1]:5556");
  EXPECT_EQ(parsed({"ipc:///run/rivulet/results"}).endpoint, "ipc:///run/rivulet/results");
  EXPECT_EQ(parsed({"tcp://[::1]:5556"}).endpoint, "tcp://[::1]:5556");
  for (const char* bad : {"localhost", "127.0.0.1:", ":5556", "host:55x6", "-"}) {
    EXPECT_EQ(refused({bad}), std::string("\"") + bad +
                                  "\" is not an endpoint (use tcp://HOST:PORT, HOST:PORT or "
                                  "ipc://PATH)");
  }
}

TEST(SubOptions, ArgumentsAfterTheEndpointArePrefixesInOrderAndOptionsMayComeAnywhere) {
  const SubOptions o =
      parsed({kEndpoint, "volume_1m/", "--markers", "volume_1m/AAPL/", "_late/x/"});
  EXPECT_EQ(o.endpoint, kEndpoint);
  EXPECT_THAT(o.prefixes, ElementsAre("volume_1m/", "volume_1m/AAPL/", "_late/x/"));
  EXPECT_TRUE(o.markers);
}

TEST(SubOptions, SwitchesSetTheirFlagAndTakeNoValue) {
  EXPECT_TRUE(parsed({"--topic", kEndpoint}).with_topic);
  EXPECT_TRUE(parsed({"--markers", kEndpoint}).markers);
  EXPECT_TRUE(parsed({"--late", kEndpoint}).late);
  const SubOptions all = parsed({kEndpoint, "--late", "--topic", "--markers"});
  EXPECT_TRUE(all.with_topic && all.markers && all.late);
  for (const char* flag : {"--topic", "--markers", "--late", "--help", "--version"}) {
    EXPECT_EQ(refused({std::string(flag) + "=yes", kEndpoint}),
              std::string(flag) + " takes no value");
  }
}

TEST(SubOptions, OptionsWithAValueTakeItNextOrAfterAnEqualsSign) {
  for (const bool inline_value : {false, true}) {
    const auto args = [&](const std::string& flag, const std::string& value) {
      return inline_value ? std::vector<std::string>{flag + "=" + value, kEndpoint}
                          : std::vector<std::string>{flag, value, kEndpoint};
    };
    EXPECT_EQ(parsed(args("--format", "table")).format, SubFormat::kTable);
    EXPECT_EQ(parsed(args("--format", "json")).format, SubFormat::kJson);
    EXPECT_EQ(parsed(args("--count", "1")).count, 1);
    EXPECT_EQ(parsed(args("--count", "250000")).count, 250000);
    EXPECT_EQ(parsed(args("--timeout", "500ms")).timeout, std::chrono::milliseconds(500));
    EXPECT_EQ(parsed(args("--timeout", "2m")).timeout, std::chrono::minutes(2));
    SubOptions curve = parsed({inline_value ? "--curve-key=me.secret" : "--curve-key",
                               inline_value ? "--curve-server-key=it.public" : "me.secret",
                               inline_value ? kEndpoint : "--curve-server-key",
                               inline_value ? "p/" : "it.public", kEndpoint});
    EXPECT_EQ(curve.curve_key, "me.secret");
    EXPECT_EQ(curve.curve_server_key, "it.public");
  }
  // An equals sign keeps the rest as it is, another one or a value starting with a dash too.
  EXPECT_EQ(parsed({"--curve-key=a=b", "--curve-server-key", "-c", kEndpoint}).curve_key, "a=b");
  EXPECT_EQ(parsed({"--curve-key=a=b", "--curve-server-key", "-c", kEndpoint}).curve_server_key,
            "-c");
}

TEST(SubOptions, BadValuesAreRefusedNamingTheOptionAndTheValue) {
  EXPECT_EQ(refused({"--format", "xml", kEndpoint}), "--format: \"xml\" is not json or table");
  EXPECT_EQ(refused({"--format=", kEndpoint}), "--format: \"\" is not json or table");
  for (const char* count : {"0", "-1", "3x", "", " 3", "1.5", "99999999999999999999"}) {
    EXPECT_EQ(refused({std::string("--count=") + count, kEndpoint}),
              std::string("--count: \"") + count + "\" is not a positive integer");
  }
  for (const char* timeout : {"soon", "0s", "0ms", "-1s", "", "10"}) {
    EXPECT_EQ(refused({"--timeout", timeout, kEndpoint}),
              std::string("--timeout: \"") + timeout +
                  "\" is not a positive duration (use e.g. 500ms, 10s, 1m)");
  }
}

TEST(SubOptions, AValueMissingAtTheEndIsRefused) {
  for (const char* flag :
       {"--format", "--count", "--timeout", "--curve-key", "--curve-server-key"}) {
    EXPECT_EQ(refused({kEndpoint, flag}), std::string(flag) + " needs a value");
  }
}

TEST(SubOptions, CurveKeysGoTogether) {
  EXPECT_EQ(refused({"--curve-key", "me.secret", kEndpoint}),
            "--curve-key and --curve-server-key go together");
  EXPECT_EQ(refused({"--curve-server-key", "it.public", kEndpoint}),
            "--curve-key and --curve-server-key go together");
}

TEST(SubOptions, UnknownOptionsAndAMissingEndpointAreRefused) {
  EXPECT_EQ(refused({}), "no ENDPOINT");
  EXPECT_EQ(refused({"--markers", "--late"}), "no ENDPOINT");
  EXPECT_EQ(refused({"--bogus", kEndpoint}), "unknown option --bogus");
  EXPECT_EQ(refused({"--bogus=1", kEndpoint}), "unknown option --bogus=1");
  EXPECT_EQ(refused({kEndpoint, "-x"}), "unknown option -x");
  EXPECT_EQ(refused({"-help", kEndpoint}), "unknown option -help");
}

TEST(SubOptions, HelpAndVersionEndTheReading) {
  for (const char* flag : {"-h", "--help"}) {
    EXPECT_EQ(parsed({flag}).command, SubCommand::kHelp);
    EXPECT_EQ(parsed({kEndpoint, flag, "--bogus"}).command, SubCommand::kHelp);
  }
  for (const char* flag : {"-V", "--version"}) {
    EXPECT_EQ(parsed({flag}).command, SubCommand::kVersion);
    EXPECT_EQ(parsed({flag, "--count", "0"}).command, SubCommand::kVersion);
  }
  EXPECT_EQ(parsed({"--help", "--version"}).command, SubCommand::kHelp);
  // An error before them stands.
  EXPECT_EQ(refused({"--bogus", "--help"}), "unknown option --bogus");
}

TEST(SubOptions, TheUsageNamesEveryOption) {
  for (const char* option :
       {"--format json|table", "--topic", "--markers", "--late", "--count N", "--timeout DURATION",
        "--curve-key FILE", "--curve-server-key FILE", "-V, --version", "-h, --help",
        "ENDPOINT [TOPIC-PREFIX...]", "Exit codes"}) {
    EXPECT_THAT(kSubUsage, HasSubstr(option));
  }
}

}  // namespace
}  // namespace rivulet::daemon
