// The shipped unit, systemd/rivulet.service, as `cmake --install` puts it in place: its ExecStart
// runs the daemon that install put in place, `systemd-analyze verify` has nothing to say about it
// (it exits 0 on unknown keys and bad values, so stderr must be empty too), and `systemd-analyze
// security --offline=true` scores its exposure.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const std::string kCmake = RIVULET_CMAKE_COMMAND;
const std::string kSystemdAnalyze = "/usr/bin/systemd-analyze";
const std::string kShippedUnit = RIVULET_SOURCE_DIR "/systemd/rivulet.service";
const std::string kExecStart = "ExecStart=/usr/bin/rivuletd --config /etc/rivulet/rivulet.yaml";

// Exposure as scored when this was written; a change that raises it should be a decision.
constexpr double kMaxExposure = 1.2;

bool executable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IXUSR) != 0;
}

// The lines of `unit` that assign `key`, values only.
std::vector<std::string> values(const std::string& unit, const std::string& key) {
  std::vector<std::string> out;
  for (const std::string& line : splitLines(unit)) {
    if (line.rfind(key + "=", 0) == 0) out.push_back(line.substr(key.size() + 1));
  }
  return out;
}

// Installs the build with `cmake --install`; the command's result.
CommandResult install(const TempDir& dir, const std::string& prefix, const std::string& destdir) {
  std::vector<std::string> env;
  if (!destdir.empty()) env.push_back("DESTDIR=" + destdir);
  return runCommand(dir, {kCmake, "--install", RIVULET_BINARY_DIR, "--prefix", prefix}, 120s, env);
}

TEST(SystemdUnit, ShippedUnitIsANotifyServiceWithWatchdogThatMayPin) {
  const std::string unit = readFile(kShippedUnit);
  EXPECT_THAT(splitLines(unit), ::testing::Contains(kExecStart));
  EXPECT_THAT(values(unit, "Type"), ::testing::ElementsAre("notify"));
  EXPECT_THAT(values(unit, "NotifyAccess"), ::testing::ElementsAre("main"));
  EXPECT_THAT(values(unit, "WatchdogSec"), ::testing::ElementsAre("10s"));
  EXPECT_THAT(values(unit, "ExecReload"), ::testing::ElementsAre("/bin/kill -HUP $MAINPID"));
  EXPECT_THAT(values(unit, "Restart"), ::testing::ElementsAre("on-failure"));
  // Pinning (daemon.cpus) is sched_setaffinity, which ~@resources forbids.
  for (const std::string& filter : values(unit, "SystemCallFilter"))
    EXPECT_THAT(filter, Not(HasSubstr("@resources")));
}

TEST(SystemdUnit, InstallPutsTheDaemonWhereTheUnitRunsIt) {
  TempDir dir;
  const std::string root = dir.file("root");
  const CommandResult installed = install(dir, "/usr", root);
  ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;

  const std::string unit_path = root + "/usr/lib/systemd/system/rivulet.service";
  EXPECT_EQ(readFile(unit_path), readFile(kShippedUnit)) << "installed as shipped";
  EXPECT_TRUE(executable(root + "/usr/bin/rivuletd"));
  const CommandResult version = runCommand(dir, {root + "/usr/bin/rivuletd", "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, HasSubstr("rivuletd "));
}

TEST(SystemdUnit, InstalledUnitVerifiesCleanlyAndScoresItsExposure) {
  TempDir dir;
  // Under another prefix the installed unit names the daemon installed there, which exists, so
  // verify (which checks that ExecStart's binary is executable) can run on the unit as installed.
  const std::string prefix = dir.file("prefix");
  const CommandResult installed = install(dir, prefix, "");
  ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
  const std::string unit_path = prefix + "/lib/systemd/system/rivulet.service";
  const std::string unit = readFile(unit_path);
  ASSERT_THAT(unit, HasSubstr("ExecStart=" + prefix + "/bin/rivuletd --config "));
  ASSERT_TRUE(executable(prefix + "/bin/rivuletd"));
  // Nothing but ExecStart differs from the shipped unit.
  std::string shipped = readFile(kShippedUnit);
  shipped.replace(shipped.find("ExecStart=/usr/bin/"), 19, "ExecStart=" + prefix + "/bin/");
  EXPECT_EQ(unit, shipped);

  const CommandResult verify = runCommand(dir, {kSystemdAnalyze, "verify", unit_path});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_THAT(verify.err, IsEmpty());

  // The check has teeth: a misspelt key still exits 0, but says so on stderr.
  const std::string typo_path = dir.file("typo/rivulet.service");
  std::filesystem::create_directories(dir.file("typo"));
  std::string typo = unit;
  typo.replace(typo.find("NotifyAccess="), 13, "NotifyAcess=");
  writeFile(typo_path, typo);
  const CommandResult typo_verify = runCommand(dir, {kSystemdAnalyze, "verify", typo_path});
  EXPECT_EQ(typo_verify.exit_code, 0);
  EXPECT_THAT(typo_verify.err, HasSubstr("NotifyAcess"));

  const CommandResult security =
      runCommand(dir, {kSystemdAnalyze, "security", "--offline=true", unit_path});
  EXPECT_EQ(security.exit_code, 0) << security.err;
  const std::string marker = "Overall exposure level for rivulet.service: ";
  const std::size_t at = security.out.find(marker);
  ASSERT_NE(at, std::string::npos) << security.out << security.err;
  const double exposure = std::strtod(security.out.c_str() + at + marker.size(), nullptr);
  std::printf("systemd-analyze security: exposure %.1f\n", exposure);
  for (const std::string& line : splitLines(security.out)) {
    if (line.rfind("✗", 0) == 0) std::printf("  %s\n", line.c_str());
  }
  EXPECT_GT(exposure, 0.0);
  EXPECT_LE(exposure, kMaxExposure);
}

}  // namespace
}  // namespace rivulet::testutil
