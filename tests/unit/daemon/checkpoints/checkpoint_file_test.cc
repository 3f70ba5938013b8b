// The checkpoint file: what is written is read back; anything else — a flipped bit, a truncated
// or extended file, another configuration's or format's checkpoint — is reported, never misread,
// never a crash.
#include "daemon/checkpoints/checkpoint_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

namespace rivulet::daemon {
namespace {

using Status = CheckpointRead::Status;

CheckpointData sample(std::mt19937_64& random) {
  const auto bytes = [&](std::size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(random());
    return s;
  };
  CheckpointData data;
  data.fingerprint = random();
  data.id = random() % 1000 + 1;
  data.taken_at = static_cast<std::int64_t>(random() >> 1);
  const std::size_t sources = random() % 4;
  for (std::size_t i = 0; i < sources; ++i) {
    data.source_names.push_back("source" + std::to_string(i));
    data.sources.push_back(bytes(random() % 40));
  }
  const std::size_t stages = random() % 4 + 1;
  for (std::size_t i = 0; i < stages; ++i) data.stages.push_back(bytes(random() % 300));
  data.publisher = bytes(random() % 100);
  return data;
}

void expectEqual(const CheckpointData& got, const CheckpointData& want) {
  EXPECT_EQ(got.fingerprint, want.fingerprint);
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.taken_at, want.taken_at);
  EXPECT_EQ(got.source_names, want.source_names);
  EXPECT_EQ(got.sources, want.sources);
  EXPECT_EQ(got.stages, want.stages);
  EXPECT_EQ(got.publisher, want.publisher);
}

TEST(CheckpointFile, RoundTrips) {
  std::mt19937_64 random(1);
  for (int i = 0; i < 200; ++i) {
    const CheckpointData data = sample(random);
    const CheckpointRead read = decodeCheckpoint(encodeCheckpoint(data), data.fingerprint);
    ASSERT_EQ(read.status, Status::kOk) << read.message;
    expectEqual(read.data, data);
  }
}

TEST(CheckpointFile, EveryDamageIsReported) {
  std::mt19937_64 random(2);
  for (int i = 0; i < 300; ++i) {
    const CheckpointData data = sample(random);
    const std::string good = encodeCheckpoint(data);
    std::string bad = good;
    switch (i % 4) {
      case 0:  // one bit flipped anywhere
        bad[random() % bad.size()] ^= static_cast<char>(1 << (random() % 8));
        break;
      case 1:  // cut short
        bad.resize(random() % bad.size());
        break;
      case 2:  // bytes appended
        bad += std::string(random() % 16 + 1, 'x');
        break;
      case 3:  // random bytes after a valid magic
        bad = good.substr(0, 8);
        for (std::size_t n = random() % 200; n > 0; --n) bad.push_back(static_cast<char>(random()));
        break;
    }
    const CheckpointRead read = decodeCheckpoint(bad, data.fingerprint);
    EXPECT_NE(read.status, Status::kOk) << "case " << i;
    EXPECT_FALSE(read.message.empty());
  }
}

TEST(CheckpointFile, AnotherConfigurationIsIncompatible) {
  std::mt19937_64 random(3);
  const CheckpointData data = sample(random);
  const CheckpointRead read = decodeCheckpoint(encodeCheckpoint(data), data.fingerprint + 1);
  EXPECT_EQ(read.status, Status::kIncompatible);
  EXPECT_NE(read.message.find("other pipelines"), std::string::npos) << read.message;
}

// A file of another format version, with a checksum that matches, is refused for its version:
// version 1 files hold quantile sketches without their exact values.
TEST(CheckpointFile, AnotherFormatVersionIsIncompatible) {
  std::mt19937_64 random(5);
  const CheckpointData data = sample(random);
  for (const std::uint32_t version : {3u, kCheckpointVersion + 1}) {
    std::string file = encodeCheckpoint(data);
    file.resize(file.size() - sizeof(std::uint64_t));
    std::memcpy(file.data() + 8, &version, sizeof version);  // after "RIVULETC"
    const std::uint64_t checksum = checkpointChecksum(file);
    file.append(reinterpret_cast<const char*>(&checksum), sizeof checksum);
    const CheckpointRead read = decodeCheckpoint(file, data.fingerprint);
    EXPECT_EQ(read.status, Status::kIncompatible) << version;
    EXPECT_EQ(read.message, "format version " + std::to_string(version) + ", this rivuletd reads " +
                                std::to_string(kCheckpointVersion));
  }
  EXPECT_EQ(kCheckpointVersion, 4u);
}

class CheckpointDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "rivulet-ckpt-XXXXXX");
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(CheckpointDir, WritesReplaceTheCheckpointWhole) {
  EXPECT_EQ(readCheckpoint(dir_, 0).status, Status::kNone);
  std::mt19937_64 random(4);
  for (int i = 0; i < 3; ++i) {
    CheckpointData data = sample(random);
    std::string error;
    ASSERT_TRUE(writeCheckpoint(dir_ + "/state", encodeCheckpoint(data), error)) << error;
    const CheckpointRead read = readCheckpoint(dir_ + "/state", data.fingerprint);
    ASSERT_EQ(read.status, Status::kOk) << read.message;
    expectEqual(read.data, data);
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/state/checkpoint.tmp"));
  std::string error;
  ASSERT_TRUE(discardCheckpoint(dir_ + "/state", error)) << error;
  EXPECT_EQ(readCheckpoint(dir_ + "/state", 0).status, Status::kNone);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/state/checkpoint.discarded"));
}

TEST_F(CheckpointDir, AnUnwritableDirectoryIsAnError) {
  std::string error;
  EXPECT_FALSE(writeCheckpoint(dir_ + "/missing/parent", "x", error));
  EXPECT_NE(error.find("cannot create"), std::string::npos) << error;
}

}  // namespace
}  // namespace rivulet::daemon
