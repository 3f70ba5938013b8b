// rivuletd's command line (DESIGN §4, exit codes in --help): version, help, usage errors,
// --check on good and bad configs, and the start-up failure when a port is taken.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <regex>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A socket listening on 127.0.0.1 at a kernel-chosen port, without SO_REUSEADDR: nobody else can
// bind that port while it lives.
class TakenPort {
 public:
  TakenPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      throw std::runtime_error(std::string("cannot take a port: ") + std::strerror(errno));
    }
    port_ = ntohs(address.sin_port);
  }
  ~TakenPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

// A valid config with every port chosen by the kernel unless given.
std::string config(const TempDir& dir, const std::string& metrics = "127.0.0.1:0",
                   const std::string& publish = "tcp://127.0.0.1:0",
                   const std::string& listen = "127.0.0.1:0") {
  return "daemon:\n"
         "  metrics: " +
         metrics +
         "\n"
         "  publish: [" +
         publish + ", ipc://" + dir.file("r.ipc") +
         "]\n"
         "sources:\n"
         "  in:\n"
         "    kind: tcp\n"
         "    listen: " +
         listen +
         "\n"
         "    time: {field: ts, unit: ms}\n"
         "pipelines:\n"
         "  trades:\n"
         "    from: in\n"
         "    group_by: [sym]\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates:\n"
         "      n: count()\n"
         "      total: sum(px)\n"
         "  hop:\n"
         "    from: in\n"
         "    window: {hopping: {size: 3s, slide: 1s}}\n"
         "    aggregates:\n"
         "      n: count()\n";
}

TEST(DaemonCli, VersionPrintsOneLineAndExitsZero) {
  TempDir dir;
  for (const char* flag : {"--version", "-V"}) {
    const CommandResult r = runCommand(dir, {kDaemonPath, flag});
    ASSERT_TRUE(r.exit_code.has_value()) << flag << " did not exit";
    EXPECT_EQ(*r.exit_code, 0) << flag;
    EXPECT_TRUE(std::regex_match(r.out, std::regex("rivuletd [0-9]+\\.[0-9]+\\.[0-9]+\n")))
        << flag << " printed \"" << r.out << "\"";
    EXPECT_EQ(r.err, "") << flag;
  }
}

TEST(DaemonCli, HelpPrintsUsageAndExitsZero) {
  TempDir dir;
  for (const char* flag : {"--help", "-h"}) {
    const CommandResult r = runCommand(dir, {kDaemonPath, flag});
    ASSERT_TRUE(r.exit_code.has_value()) << flag << " did not exit";
    EXPECT_EQ(*r.exit_code, 0) << flag;
    EXPECT_THAT(r.out, StartsWith("usage: rivuletd")) << flag;
    for (const char* text : {"--config", "--check", "--log-level", "--version", "SIGTERM"}) {
      EXPECT_THAT(r.out, HasSubstr(text)) << flag;
    }
    EXPECT_EQ(r.err, "") << flag;
  }
}

TEST(DaemonCli, UsageErrorsExitTwo) {
  TempDir dir;
  writeFile(dir.file("ok.yaml"), config(dir));
  const std::vector<std::vector<std::string>> bad = {
      {kDaemonPath, "--bogus"},
      {kDaemonPath, "--config", dir.file("ok.yaml"), "--frobnicate"},
      {kDaemonPath},              // no --config
      {kDaemonPath, "--config"},  // no value
      {kDaemonPath, "--config", dir.file("ok.yaml"), "--log-level", "loud"},
  };
  for (const auto& argv : bad) {
    std::string joined;
    for (std::size_t i = 1; i < argv.size(); ++i) joined += argv[i] + " ";
    const CommandResult r = runCommand(dir, argv);
    ASSERT_TRUE(r.exit_code.has_value()) << joined << "did not exit";
    EXPECT_EQ(*r.exit_code, 2) << joined << "\n" << r.err;
    EXPECT_THAT(r.err, StartsWith("rivuletd: ")) << joined;
    EXPECT_EQ(r.out, "") << joined;
  }
  const CommandResult unknown = runCommand(dir, {kDaemonPath, "--bogus"});
  EXPECT_THAT(unknown.err, HasSubstr("--bogus"));
  EXPECT_THAT(unknown.err, HasSubstr("usage: rivuletd"));
}

TEST(DaemonCli, CheckValidConfigPrintsOneLineSummary) {
  TempDir dir;
  // The ports in the config are taken: --check validates only and binds nothing.
  TakenPort taken;
  const std::string port = "127.0.0.1:" + std::to_string(taken.port());
  const std::string path = dir.file("ok.yaml");
  writeFile(path, config(dir, port, "tcp://" + port, port));
  const CommandResult r = runCommand(dir, {kDaemonPath, "--check", "--config", path});
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  ASSERT_EQ(splitLines(r.out).size(), 1u) << r.out;
  EXPECT_EQ(r.out.back(), '\n');
  EXPECT_THAT(r.out, StartsWith(path + ": ok"));
  for (const char* part :
       {"1 source", "in: tcp", "2 pipelines", "trades: tumbling 1s", "hop: hopping 3s/1s"}) {
    EXPECT_THAT(r.out, HasSubstr(part));
  }

  // The shipped example is valid too.
  const std::string demo = kSourceDir + "/examples/demo.yaml";
  const CommandResult d = runCommand(dir, {kDaemonPath, "--config", demo, "--check"});
  ASSERT_TRUE(d.exit_code.has_value());
  EXPECT_EQ(*d.exit_code, 0) << d.err;
  EXPECT_EQ(splitLines(d.out).size(), 1u) << d.out;
  EXPECT_THAT(d.out, StartsWith(demo + ": ok"));
}

// Line and column (1-based) of the first occurrence of `text` in `yaml`.
std::string positionOf(const std::string& yaml, const std::string& text) {
  const std::size_t at = yaml.find(text);
  const std::size_t line_start = yaml.rfind('\n', at);
  const auto line = std::count(yaml.begin(), yaml.begin() + static_cast<std::ptrdiff_t>(at), '\n');
  const std::size_t column = line_start == std::string::npos ? at + 1 : at - line_start;
  return std::to_string(line + 1) + ":" + std::to_string(column);
}

TEST(DaemonCli, CheckReportsEveryErrorWithFileLineColumnAndPath) {
  TempDir dir;
  const std::string yaml =
      "daemon:\n"
      "  metrics: 127.0.0.1:0\n"
      "sources:\n"
      "  in:\n"
      "    kind: tpc\n"
      "    listen: 127.0.0.1:0\n"
      "pipelines:\n"
      "  p:\n"
      "    from: in\n"
      "    window: { tumbling: 1x }\n"
      "    aggregates:\n"
      "      n: count()\n";
  const std::string path = dir.file("bad.yaml");
  writeFile(path, yaml);
  for (const bool check : {true, false}) {
    std::vector<std::string> argv{kDaemonPath, "--config", path};
    if (check) argv.push_back("--check");
    const CommandResult r = runCommand(dir, argv);
    ASSERT_TRUE(r.exit_code.has_value());
    EXPECT_EQ(*r.exit_code, 1) << (check ? "--check" : "run") << "\n" << r.err;
    EXPECT_EQ(r.out, "");
    const std::vector<std::string> lines = splitLines(r.err);
    // Both errors, in file order, then the count.
    ASSERT_GE(lines.size(), 2u) << r.err;
    EXPECT_THAT(lines[0],
                StartsWith(path + ":" + positionOf(yaml, "tpc") + ": sources.in.kind: \"tpc\""));
    EXPECT_THAT(lines[0], HasSubstr("tcp"));  // names what is possible
    EXPECT_EQ(lines[1], path + ":" + positionOf(yaml, "1x") +
                            ": pipelines.p.window.tumbling: \"1x\" is not a duration (use e.g. "
                            "500ms, 10s, 1m)");
    // Nothing but the two errors and an optional count line.
    EXPECT_LE(lines.size(), 3u) << r.err;
    if (lines.size() == 3) {
      EXPECT_THAT(lines[2], HasSubstr("2 errors"));
    }
  }
}

TEST(DaemonCli, UnreadableConfigExitsOne) {
  TempDir dir;
  const CommandResult r = runCommand(dir, {kDaemonPath, "--config", dir.file("missing.yaml")});
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(dir.file("missing.yaml")));
  EXPECT_THAT(r.err, HasSubstr("No such file"));
}

// Starting with a port that is taken fails fast with exit 3, naming what could not bind, where,
// and (where the OS says so) why.
void expectStartFailure(const TempDir& dir, const std::string& yaml, int port,
                        const std::string& what, bool says_in_use = true) {
  writeFile(dir.file("taken.yaml"), yaml);
  const CommandResult r = runCommand(dir, {kDaemonPath, "--config", dir.file("taken.yaml")}, 30s);
  ASSERT_TRUE(r.exit_code.has_value()) << what << ": still running";
  EXPECT_EQ(*r.exit_code, 3) << what << "\n" << r.err;
  EXPECT_THAT(r.err, HasSubstr("127.0.0.1:" + std::to_string(port))) << what;
  if (says_in_use) {
    EXPECT_THAT(r.err, HasSubstr("in use")) << what;
  }
  EXPECT_THAT(r.err, HasSubstr(what));
}

TEST(DaemonCli, TcpSourcePortInUseExitsThree) {
  TempDir dir;
  TakenPort taken;
  expectStartFailure(
      dir,
      config(dir, "127.0.0.1:0", "tcp://127.0.0.1:0", "127.0.0.1:" + std::to_string(taken.port())),
      taken.port(), "source in");
}

TEST(DaemonCli, PublishPortInUseExitsThree) {
  TempDir dir;
  TakenPort taken;
  expectStartFailure(dir,
                     config(dir, "127.0.0.1:0", "tcp://127.0.0.1:" + std::to_string(taken.port())),
                     taken.port(), "publish");
}

TEST(DaemonCli, MetricsPortInUseExitsThree) {
  TempDir dir;
  TakenPort taken;
  expectStartFailure(dir, config(dir, "127.0.0.1:" + std::to_string(taken.port())), taken.port(),
                     "metrics");
}

}  // namespace
}  // namespace rivulet::testutil
