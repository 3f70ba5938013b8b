// `daemon.publish_curve` and a zmq source's `curve`: the key files are read at load time, and
// every way they can be wrong is an error at the line of the key naming the file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/curve_key.h"
#include "config/loader.h"
#include "tests/unit/config/errors_of.h"

namespace rivulet::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string readKey(const std::string& file) {
  std::string error;
  return readCurveKeyFile(file, error).value_or("");
}

// A temp dir with key pairs made by writeCurveKeyPair: server, a and b, and a clients directory
// holding a's and b's public keys (and a hidden file, which is not a key).
class CurveConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/rivulet-curve-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    for (const char* name : {"server", "a", "b"}) {
      std::string error;
      ASSERT_TRUE(writeCurveKeyPair(dir_ + "/" + name, error)) << error;
    }
    std::filesystem::create_directory(dir_ + "/clients");
    std::filesystem::copy_file(dir_ + "/a.public", dir_ + "/clients/a.public");
    std::filesystem::copy_file(dir_ + "/b.public", dir_ + "/clients/b.key");
    write("clients/.hidden", "not a key\n");
    std::filesystem::create_directory(dir_ + "/empty");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
  }
  std::string publishCurve(const std::string& secret, const std::string& clients) const {
    return "daemon:\n  publish_curve:\n    secret_key: " + path(secret) +
           "\n    clients: " + path(clients) + "\n" + kRest;
  }

  static constexpr const char* kRest =
      "sources: { s: { kind: generator } }\n"
      "pipelines: { p: { from: s, window: { tumbling: 1s }, aggregates: { n: count() } } }\n";
  std::string dir_;
};

TEST_F(CurveConfig, PublishCurveReadsTheKeys) {
  const LoadResult loaded = loadString(publishCurve("server.secret", "clients"), "t.yaml");
  ASSERT_TRUE(loaded.config) << loaded.errors.front().toString();
  const CurveSpec& curve = *loaded.config->daemon.publish_curve;
  EXPECT_EQ(curve.secret_key, readKey(path("server.secret")));
  EXPECT_EQ(curve.public_key, readKey(path("server.public")));
  std::vector<std::string> clients{readKey(path("a.public")), readKey(path("b.public"))};
  std::sort(clients.begin(), clients.end());
  EXPECT_EQ(curve.clients, clients);
  EXPECT_THAT(summary(*loaded.config), HasSubstr("results over CURVE to 2 client keys"));
  EXPECT_THAT(summary(*loaded.config), ::testing::Not(HasSubstr(curve.secret_key)));
}

TEST_F(CurveConfig, BadKeyFilesAreErrorsThatNeverShowTheirContent) {
  write("garbage.secret", "not a key at all, but a secret all the same\n");
  ::chmod(path("garbage.secret").c_str(), 0600);
  write("open.secret", readKey(path("a.secret")) + "\n");
  ::chmod(path("open.secret").c_str(), 0644);
  EXPECT_THAT(errorsOf(publishCurve("missing.secret", "empty")),
              ElementsAre("t.yaml:3:17: daemon.publish_curve.secret_key: cannot read \"" +
                              path("missing.secret") + "\": No such file or directory",
                          "t.yaml:4:14: daemon.publish_curve.clients: \"" + path("empty") +
                              "\" holds no client keys: no client could connect"));
  EXPECT_THAT(
      errorsOf(publishCurve("garbage.secret", "nowhere")),
      ElementsAre("t.yaml:3:17: daemon.publish_curve.secret_key: \"" + path("garbage.secret") +
                      "\" does not hold one CURVE key (40 characters of Z85 text, as "
                      "rivuletd --curve-keypair writes)",
                  "t.yaml:4:14: daemon.publish_curve.clients: cannot read the directory "
                  "\"" +
                      path("nowhere") + "\": No such file or directory"));
  EXPECT_THAT(errorsOf(publishCurve("open.secret", "clients")),
              ElementsAre("t.yaml:3:17: daemon.publish_curve.secret_key: \"" + path("open.secret") +
                          "\" is readable by every user: make it private (chmod o-r)"));
  // One client's file, two keys.
  write("clients/two.public", readKey(path("a.public")) + "\n" + readKey(path("b.public")) + "\n");
  EXPECT_THAT(
      errorsOf(publishCurve("server.secret", "clients")),
      ElementsAre("t.yaml:4:14: daemon.publish_curve.clients: \"" + path("clients/two.public") +
                  "\" does not hold one CURVE key (40 characters of Z85 text, as "
                  "rivuletd --curve-keypair writes)"));
}

TEST_F(CurveConfig, ServerAndClientKeysBelongToTheirSide) {
  EXPECT_THAT(errorsOf("daemon:\n  publish_curve:\n    secret_key: " + path("server.secret") +
                       "\n    server_key: " + path("a.public") + "\n" + kRest),
              ElementsAre("t.yaml:3:5: daemon.publish_curve: missing required key \"clients\"",
                          "t.yaml:4:5: daemon.publish_curve.server_key: \"server_key\" is for a "
                          "socket that connects (this one binds: it lists its clients instead)"));
  const std::string zmq = "sources:\n  z:\n    kind: zmq\n    socket: pull\n";
  const std::string pipelines =
      "pipelines: { p: { from: z, window: { tumbling: 1s }, aggregates: { n: count() } } }\n";
  EXPECT_THAT(
      errorsOf(zmq + "    connect: tcp://127.0.0.1:5000\n    curve:\n      secret_key: " +
               path("a.secret") + "\n      clients: " + path("clients") + "\n" + pipelines),
      ElementsAre("t.yaml:7:7: sources.z.curve: missing required key \"server_key\"",
                  "t.yaml:8:7: sources.z.curve.clients: \"clients\" is for a socket that binds "
                  "(this one connects: it names the server's key instead)"));
  const LoadResult client = loadString(
      zmq +
          "    connect: tcp://127.0.0.1:5000\n    curve:\n"
          "      secret_key: " +
          path("a.secret") + "\n      server_key: " + path("server.public") + "\n" + pipelines,
      "t.yaml");
  ASSERT_TRUE(client.config) << client.errors.front().toString();
  const CurveSpec& curve = *client.config->sources[0].zmq.curve;
  EXPECT_EQ(curve.server_key, readKey(path("server.public")));
  EXPECT_EQ(curve.public_key, readKey(path("a.public")));
  EXPECT_TRUE(curve.clients.empty());
  const LoadResult server = loadString(zmq +
                                           "    bind: tcp://127.0.0.1:5000\n    curve:\n"
                                           "      secret_key: " +
                                           path("server.secret") +
                                           "\n      clients: " + path("clients") + "\n" + pipelines,
                                       "t.yaml");
  ASSERT_TRUE(server.config) << server.errors.front().toString();
  EXPECT_EQ(server.config->sources[0].zmq.curve->clients.size(), 2u);
}

TEST_F(CurveConfig, KeyPairFilesAreNotOverwritten) {
  std::string error;
  EXPECT_FALSE(writeCurveKeyPair(path("a"), error));
  EXPECT_THAT(error, HasSubstr("cannot create \"" + path("a.secret") + "\": File exists"));
  struct stat st {};
  ASSERT_EQ(::stat(path("server.secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(curvePublicKey(readKey(path("server.secret"))), readKey(path("server.public")));
  EXPECT_FALSE(isCurveKey("short"));
  EXPECT_FALSE(curvePublicKey(std::string(40, ' ')).has_value());
}

}  // namespace
}  // namespace rivulet::config
