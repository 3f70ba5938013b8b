// KeyTable: many keys, keys with equal hashes, probes that wrap, growth, clear and reuse.
#include "pipeline/aggregates/key_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/model/hash.h"

namespace rivulet::pipeline {
namespace {

std::uint64_t hashOf(const std::string& key) { return hashKey(key); }

// prefix + i; not `"k" + std::to_string(i)`, on which g++ 12 -O3 gives a false -Wrestrict.
std::string name(std::string_view prefix, std::int64_t i) {
  std::string out(prefix);
  out += std::to_string(i);
  return out;
}

// Inserts `key` with a 2-word state {id, 0}; returns the state.
Word* insert(KeyTable& table, std::uint64_t hash, const std::string& key, std::int64_t id) {
  bool fresh = false;
  Word* state = table.findOrInsert(hash, key, [&](Word* s) {
    fresh = true;
    s[0].i = id;
    s[1].i = 0;
  });
  EXPECT_TRUE(fresh) << key;
  return state;
}

TEST(KeyTableTest, EmptyTableFindsNothing) {
  KeyTable table(2);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.find(hashOf("a"), "a"), nullptr);
  EXPECT_EQ(table.find(0, ""), nullptr);
}

TEST(KeyTableTest, InsertsAndFindsManyKeys) {
  KeyTable table(2);
  constexpr int kKeys = 100'000;
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = name("key-", i);
    insert(table, hashOf(key), key, i);
  }
  ASSERT_EQ(table.size(), static_cast<std::size_t>(kKeys));
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = name("key-", i);
    Word* state = table.find(hashOf(key), key);
    ASSERT_NE(state, nullptr) << key;
    EXPECT_EQ(state[0].i, i);
    // Entries are numbered in insertion order.
    EXPECT_EQ(table.keyAt(static_cast<std::size_t>(i)), key);
    EXPECT_EQ(table.hashAt(static_cast<std::size_t>(i)), hashOf(key) & 0xffffffff);
    EXPECT_EQ(table.stateAt(static_cast<std::size_t>(i)), state);
  }
  EXPECT_EQ(table.find(hashOf("key-100000"), "key-100000"), nullptr);
}

TEST(KeyTableTest, FindOrInsertReturnsTheExistingState) {
  KeyTable table(2);
  Word* a = insert(table, 7, "a", 1);
  a[1].i = 42;
  Word* again = table.findOrInsert(7, "a", [](Word*) { ADD_FAILURE() << "initialised twice"; });
  EXPECT_EQ(again, a);
  EXPECT_EQ(again[1].i, 42);
  EXPECT_EQ(table.size(), 1u);
}

TEST(KeyTableTest, KeysWithEqualHashesStayApart) {
  // Every key has the same hash (so the same home slot and tag): only the bytes tell them apart.
  // Sizes 0..40 cover the keys held in the header (exact up to 11 bytes) and the byte comparison
  // of longer keys; keys that are prefixes of each other, or that differ only in the middle of a
  // long key (same first 3 bytes), must not be confused.
  KeyTable table(2);
  std::vector<std::string> keys;
  for (std::size_t n = 0; n <= 40; ++n) keys.push_back(std::string(n, 'a'));
  for (std::size_t n = 1; n <= 40; ++n) {
    for (std::size_t at = 0; at < n; ++at) {
      std::string key(n, 'a');
      key[at] = 'b';
      keys.push_back(key);
    }
  }
  keys.push_back(std::string("\0\0", 2));
  keys.push_back(std::string("\0\0\0", 3));
  constexpr std::uint64_t kHash = 0x1234'5678'9abc'def0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    insert(table, kHash, keys[i], static_cast<std::int64_t>(i));
  }
  ASSERT_EQ(table.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    Word* state = table.find(kHash, keys[i]);
    ASSERT_NE(state, nullptr) << i;
    EXPECT_EQ(state[0].i, static_cast<std::int64_t>(i)) << "key " << i << " found another key";
  }
  EXPECT_EQ(table.find(kHash, std::string(41, 'a')), nullptr);
  EXPECT_EQ(table.find(kHash, "c"), nullptr);
  // Same bytes, another hash: another key as far as the table is concerned.
  EXPECT_EQ(table.find(kHash + 1, "a"), nullptr);
}

TEST(KeyTableTest, KeysComeBackByteForByte) {
  // Keys of up to 11 bytes live only in their entry's header, longer ones in the arena (sizes
  // past 255 have no size byte of their own); every byte value, zeros included, must survive,
  // across clears that rewind the arena and refills that reuse it.
  KeyTable table(2);
  std::vector<std::string> keys;
  for (std::size_t n = 0; n <= 300; n += n < 20 ? 1 : 37) {
    for (const char fill : {'\0', '\x7f', '\xff', 'k'}) {
      std::string key(n, fill);
      for (std::size_t i = 0; i < n; i += 3) key[i] = static_cast<char>(i * 7 + n);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
  }
  keys.push_back(std::string(KeyTable::kMaxKeySize, 'x'));
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      insert(table, hashOf(keys[i]), keys[i], static_cast<std::int64_t>(i));
    }
    ASSERT_EQ(table.size(), keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      EXPECT_EQ(table.keyAt(i), keys[i]) << "key " << i << ", size " << keys[i].size();
      Word* state = table.find(hashOf(keys[i]), keys[i]);
      ASSERT_NE(state, nullptr) << i;
      EXPECT_EQ(state[0].i, static_cast<std::int64_t>(i));
    }
    table.clear();
  }
}

TEST(KeyTableTest, OnlyTheLow32BitsOfAHashCount) {
  KeyTable table(2);
  Word* a = insert(table, 0x1111'2222'3333'4444ull, "a", 1);
  EXPECT_EQ(table.find(0x9999'0000'3333'4444ull, "a"), a);
  EXPECT_EQ(table.hashAt(0), 0x3333'4444ull);
  EXPECT_EQ(table.find(0x1111'2222'3333'4445ull, "a"), nullptr);
}

TEST(KeyTableTest, ProbesWrapAroundTheEndOfTheSlots) {
  // Low bits all ones: every key's home is the last slot, whatever the table size, so probing
  // wraps to the start at every size the table grows through.
  KeyTable table(2);
  constexpr int kKeys = 500;
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = name("k", i);
    insert(table, 0xffff'ffff'ffff'ffffull - (static_cast<std::uint64_t>(i) << 40), key, i);
  }
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = name("k", i);
    Word* state = table.find(0xffff'ffff'ffff'ffffull - (static_cast<std::uint64_t>(i) << 40), key);
    ASSERT_NE(state, nullptr) << key;
    EXPECT_EQ(state[0].i, i);
  }
}

TEST(KeyTableTest, StatesSurviveGrowth) {
  KeyTable table(3);
  std::vector<std::string> keys;
  for (int i = 0; i < 5000; ++i) {
    keys.push_back(name("grow", i));
    Word* state = table.findOrInsert(hashOf(keys.back()), keys.back(), [](Word* s) {
      s[0].i = 0;
      s[1].f = 0;
      s[2].i = 0;
    });
    // Update every key so far again: values must follow the entries through every rehash.
    state[0].i += 1;
    state[1].f += 0.5;
    state[2].i = i;
  }
  for (int i = 0; i < 5000; ++i) {
    Word* state =
        table.find(hashOf(keys[static_cast<std::size_t>(i)]), keys[static_cast<std::size_t>(i)]);
    ASSERT_NE(state, nullptr);
    EXPECT_EQ(state[0].i, 1);
    EXPECT_EQ(state[1].f, 0.5);
    EXPECT_EQ(state[2].i, i);
  }
}

TEST(KeyTableTest, ClearEmptiesTheTableAndKeepsItsBuffers) {
  KeyTable table(2);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 10'000; ++i) {
      const std::string key = name("r", i);
      insert(table, hashOf(key), key, round * 100'000 + i);
    }
    const Word* first_state = table.stateAt(0);
    table.clear();
    EXPECT_EQ(table.size(), 0u);
    EXPECT_EQ(table.find(hashOf("r0"), "r0"), nullptr);
    EXPECT_EQ(table.find(hashOf("r9999"), "r9999"), nullptr);
    // Refilled to the same size, the table reuses its storage rather than allocating anew.
    insert(table, hashOf("r0"), "r0", 0);
    EXPECT_EQ(table.stateAt(0), first_state);
    table.clear();
  }
}

TEST(KeyTableTest, ClearOfAFewKeysInABigTable) {
  // A table grown by a busy window and then holding few keys is cleared entry by entry.
  KeyTable table(2);
  for (int i = 0; i < 20'000; ++i) {
    const std::string key = name("big", i);
    insert(table, hashOf(key), key, i);
  }
  table.clear();
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 10; ++i) {
      const std::string key = name("few", round) + name("-", i);
      insert(table, hashOf(key), key, i);
      // Keys with one shared hash too, so cleared probe chains are exercised.
      insert(table, 99, key, i);
    }
    EXPECT_EQ(table.size(), 20u);
    table.clear();
    EXPECT_EQ(table.size(), 0u);
    for (int i = 0; i < 10; ++i) {
      const std::string key = name("few", round) + name("-", i);
      EXPECT_EQ(table.find(hashOf(key), key), nullptr);
      EXPECT_EQ(table.find(99, key), nullptr);
    }
  }
  EXPECT_EQ(table.find(hashOf("big0"), "big0"), nullptr);
}

}  // namespace
}  // namespace rivulet::pipeline
