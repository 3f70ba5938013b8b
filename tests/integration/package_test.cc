// The Debian package as CPack builds it from this build tree: its name and control fields (the
// shared-library dependencies dpkg-shlibdeps found, the conffile), its files, and dpkg installing
// it into a fresh root directory, where the installed rivuletd validates the installed config.
// Then the conffile's life cycle: kept on remove, deleted on purge. Also: the man pages render
// without warnings and name every option --help lists.
//
// dpkg runs here without a container: --root gives it a fresh, empty database; --force-depends
// because that database knows none of the libraries (the host has them, so the binaries run);
// --force-not-root so that the same commands work for a developer and for CI running as root.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Packages are built from the release preset; a sanitizer build's binaries are not what anyone
// ships (they depend on libasan/libtsan), and the release pass already checks every part.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// dpkg wants ldconfig and start-stop-daemon on PATH (in sbin, missing from a user's PATH) and
// reads ~/.dpkg.cfg: a HOME of the test's own keeps another user's home out of it.
std::vector<std::string> dpkg(const TempDir& dir, std::vector<std::string> args) {
  std::vector<std::string> argv{"/usr/bin/env", "HOME=" + dir.path(),
                                "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "dpkg"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string version() {
  TempDir dir;
  const CommandResult r = runCommand(dir, {kDaemonPath, "--version"});
  const std::string prefix = "rivuletd ";
  if (r.exit_code != 0 || r.out.rfind(prefix, 0) != 0) return "?";
  return r.out.substr(prefix.size(), r.out.find('\n') - prefix.size());
}

std::string debianArchitecture(const TempDir& dir) {
  const CommandResult r = runCommand(dir, dpkg(dir, {"--print-architecture"}));
  return r.out.substr(0, r.out.find('\n'));
}

// One package for every test below, built once into its own directory.
class Package : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (kSanitized) return;
    dir_ = new TempDir;
    build_ = new CommandResult(
        runCommand(*dir_,
                   {RIVULET_CPACK_COMMAND, "-G", "DEB", "--config",
                    RIVULET_BINARY_DIR "/CPackConfig.cmake", "-B", dir_->file("out")},
                   120s));
    path_ = dir_->file("out/rivulet_" + version() + "_" + debianArchitecture(*dir_) + ".deb");
  }
  static void TearDownTestSuite() {
    delete build_;
    delete dir_;
  }

  void SetUp() override {
    if (kSanitized) GTEST_SKIP() << "packages are built and tested from the release preset";
    ASSERT_TRUE(build_->exit_code.has_value()) << "cpack did not finish in time";
    ASSERT_EQ(*build_->exit_code, 0) << build_->out << build_->err;
    ASSERT_TRUE(std::filesystem::exists(path_)) << "no " << path_ << "; cpack said:\n"
                                                << build_->out;
  }

  static std::string field(const std::string& name) {
    const CommandResult r = runCommand(*dir_, {"/usr/bin/dpkg-deb", "--field", path_, name});
    return r.exit_code == 0 ? r.out.substr(0, r.out.find_last_not_of('\n') + 1) : "";
  }

  static TempDir* dir_;
  static CommandResult* build_;
  static std::string path_;
};

TempDir* Package::dir_ = nullptr;
CommandResult* Package::build_ = nullptr;
std::string Package::path_;

TEST_F(Package, ControlFields) {
  EXPECT_EQ(field("Package"), "rivulet");
  EXPECT_EQ(field("Version"), version());
  EXPECT_EQ(field("Architecture"), debianArchitecture(*dir_));
  EXPECT_EQ(field("Section"), "net");
  EXPECT_EQ(field("Priority"), "optional");
  EXPECT_THAT(field("Maintainer"), ::testing::MatchesRegex(".+ <.+@.+>"));
  const std::string description = field("Description");
  EXPECT_THAT(description, StartsWith("streaming analytics daemon"));
  EXPECT_GT(splitLines(description).size(), 3u) << "no long description:\n" << description;
  for (const std::string& line : splitLines(description)) {
    EXPECT_EQ(line.find(';'), std::string::npos) << "list separator leaked into: " << line;
  }
}

TEST_F(Package, DependsOnTheSharedLibrariesTheBinariesLink) {
  const std::string depends = field("Depends");
  // Found by dpkg-shlibdeps in the binaries, with versions from the libraries' symbols files.
  for (const char* library : {"libc6 (>= ", "libstdc++6 (>= ", "librdkafka1 (>= ", "libzmq5 (>= ",
                              "libyaml-cpp0.7 (>= ", "libprometheus-cpp-core1.0 (>= "}) {
    EXPECT_THAT(depends, HasSubstr(library)) << depends;
  }
  EXPECT_THAT(depends, ::testing::Not(HasSubstr("-dev"))) << depends;
}

TEST_F(Package, MarksTheConfigAsConffile) {
  const CommandResult r = runCommand(*dir_, {"/usr/bin/dpkg-deb", "--info", path_, "conffiles"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "/etc/rivulet/rivulet.yaml\n");
}

TEST_F(Package, HoldsTheFilesWhereDebianWantsThem) {
  const CommandResult r = runCommand(*dir_, {"/usr/bin/dpkg-deb", "--contents", path_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> files;
  for (const std::string& line : splitLines(r.out)) {
    const std::size_t at = line.find(" ./");
    if (at != std::string::npos) files.insert(line.substr(at + 2));
  }
  for (const char* file :
       {"/usr/bin/rivuletd", "/usr/bin/rivulet-sub", "/usr/lib/systemd/system/rivulet.service",
        "/etc/rivulet/rivulet.yaml", "/usr/share/man/man8/rivuletd.8.gz",
        "/usr/share/man/man1/rivulet-sub.1.gz", "/usr/share/doc/rivulet/README.md",
        "/usr/share/doc/rivulet/operations.md", "/usr/share/doc/rivulet/examples/alerts.yml"}) {
    EXPECT_EQ(files.count(file), 1u) << file << " missing from:\n" << r.out;
  }
  for (const std::string& file : files) {
    EXPECT_THAT(file, ::testing::Not(StartsWith("/usr/local"))) << file;
    EXPECT_THAT(file, ::testing::Not(StartsWith("/usr/etc"))) << file;
  }
}

TEST_F(Package, InstallsIntoAFreshRootWhereTheDaemonChecksItsConfig) {
  TempDir work;
  const std::string root = work.file("root");
  for (const char* d : {"/var/lib/dpkg/updates", "/var/lib/dpkg/info"}) {
    std::filesystem::create_directories(root + d);
  }
  writeFile(root + "/var/lib/dpkg/status", "");
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> all{"--root=" + root, "--log=" + work.file("dpkg.log"),
                                 "--force-not-root", "--force-depends"};
    all.insert(all.end(), args.begin(), args.end());
    return runCommand(work, dpkg(work, all), 60s);
  };

  const CommandResult install = run({"--install", path_});
  ASSERT_EQ(install.exit_code, 0) << install.out << install.err;
  const CommandResult status = run({"--status", "rivulet"});
  EXPECT_THAT(status.out, HasSubstr("Status: install ok installed")) << status.out;
  EXPECT_THAT(status.out, ::testing::ContainsRegex("Conffiles:\n /etc/rivulet/rivulet.yaml "
                                                   "[0-9a-f]{32}\n"))
      << status.out;

  const std::string config = root + "/etc/rivulet/rivulet.yaml";
  const CommandResult check =
      runCommand(work, {root + "/usr/bin/rivuletd", "--check", "--config", config});
  ASSERT_TRUE(check.exit_code.has_value());
  EXPECT_EQ(*check.exit_code, 0) << check.err;
  EXPECT_THAT(check.out, StartsWith(config + ": ok"));
  // The shipped example binds the loopback interface only.
  int addresses = 0;
  for (const std::string& line : splitLines(readFile(config))) {
    const std::string code = line.substr(0, line.find('#'));
    for (const char* key : {"metrics:", "publish:", "listen:"}) {
      if (code.find(key) == std::string::npos) continue;
      ++addresses;
      EXPECT_THAT(code, HasSubstr("127.0.0.1:")) << line;
    }
  }
  EXPECT_EQ(addresses, 3) << "expected a metrics, a publish and a listen address";
  const CommandResult sub = runCommand(work, {root + "/usr/bin/rivulet-sub", "--help"});
  EXPECT_EQ(sub.exit_code, 0);
  EXPECT_THAT(sub.out, StartsWith("usage: rivulet-sub"));

  // A conffile outlives a remove, edits and all, and goes with a purge.
  appendFile(config, "# edited by the administrator\n");
  const CommandResult remove = run({"--remove", "rivulet"});
  ASSERT_EQ(remove.exit_code, 0) << remove.out << remove.err;
  EXPECT_FALSE(std::filesystem::exists(root + "/usr/bin/rivuletd"));
  EXPECT_THAT(readFile(config), HasSubstr("# edited by the administrator"));
  const CommandResult purge = run({"--purge", "rivulet"});
  ASSERT_EQ(purge.exit_code, 0) << purge.out << purge.err;
  EXPECT_FALSE(std::filesystem::exists(config));
}

// --- man pages (from the source tree: the package holds them gzipped) ---

// The options a --help text lists: every -x and --long-name in it.
std::set<std::string> options(const std::string& help) {
  std::set<std::string> out;
  const std::regex option("(^|[\\s\\[|,])(--?[a-zA-Z][-a-zA-Z]*)");
  for (auto it = std::sregex_iterator(help.begin(), help.end(), option);
       it != std::sregex_iterator(); ++it) {
    out.insert((*it)[2]);
  }
  return out;
}

// The lines of a rendered man page's section: from its heading to the next heading (a line
// that starts at the margin).
std::string manSection(const std::string& text, const std::string& heading) {
  std::string out;
  bool inside = false;
  for (const std::string& line : splitLines(text)) {
    if (!line.empty() && line[0] != ' ') {
      inside = line == heading;
      continue;
    }
    if (inside) out += line + "\n";
  }
  return out;
}

void expectManPageMatchesHelp(const std::string& page, const std::string& binary) {
  TempDir dir;
  // Plain text (no bold or underline), lines long enough that no option wraps; -ww: every
  // warning, and there must be none.
  const CommandResult man = runCommand(dir, {"/usr/bin/groff", "-man", "-Tascii", "-P-cbou",
                                             "-rLL=200n", "-ww", kSourceDir + "/" + page});
  ASSERT_EQ(man.exit_code, 0) << man.err;
  EXPECT_EQ(man.err, "") << page;
  const CommandResult help = runCommand(dir, {binary, "--help"});
  ASSERT_EQ(help.exit_code, 0);
  const std::set<std::string> listed = options(help.out);
  EXPECT_GE(listed.size(), 3u) << help.out;
  for (const std::string& option : listed) {
    EXPECT_THAT(man.out, HasSubstr(option)) << page << " does not mention " << option;
  }
  // And the other way round: the page's OPTIONS section has no option the binary lacks.
  const std::string section = manSection(man.out, "OPTIONS");
  EXPECT_NE(section, "") << page << " has no OPTIONS section";
  for (const std::string& option : options(section)) {
    if (option.rfind("--", 0) != 0) continue;
    EXPECT_EQ(listed.count(option), 1u) << page << " mentions " << option << ", --help does not";
  }
}

TEST(ManPages, RivuletdMatchesHelp) {
  expectManPageMatchesHelp("docs/man/rivuletd.8", kDaemonPath);
}

TEST(ManPages, RivuletSubMatchesHelp) {
  expectManPageMatchesHelp("docs/man/rivulet-sub.1", RIVULET_BINARY_DIR "/daemon/rivulet-sub");
}

}  // namespace
}  // namespace rivulet::testutil
