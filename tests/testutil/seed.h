#pragma once

#include <cstdint>

namespace strom::testutil {

/// Seed for a randomized test: $STROM_TEST_SEED when set (to replay a failure), otherwise
/// drawn at random. The seed is attached to every failure message of the calling test, so
/// a failing run prints the value to replay it with.
uint64_t TestSeed();

}  // namespace strom::testutil
