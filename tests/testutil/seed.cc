#include "testutil/seed.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>

namespace strom::testutil {

uint64_t TestSeed() {
  uint64_t seed;
  if (const char* env = std::getenv("STROM_TEST_SEED")) {
    seed = std::strtoull(env, nullptr, 10);
  } else {
    seed = std::random_device{}();
    seed = (seed << 32) ^ std::random_device{}();
  }
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  // Added to the output of every failure in the current test.
  static thread_local std::unique_ptr<::testing::ScopedTrace> trace;
  trace = std::make_unique<::testing::ScopedTrace>(
      __FILE__, __LINE__, "replay with STROM_TEST_SEED=" + std::to_string(seed));
  return seed;
}

}  // namespace strom::testutil
