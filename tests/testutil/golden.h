#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/bytes.h"

namespace strom::testutil {

/// Parses a file of tests/data/fluss-golden (vectors written by Fluss 0.9.1's own encoders).
/// Fails the current test (and returns null) when the file is missing or malformed.
nlohmann::json LoadGolden(const std::string& name);

/// Bytes of a lowercase hex string from a golden file; fails the test on bad hex.
ByteBuffer Hex(const std::string& hex);

/// Parses a JSON number or decimal string as a 64-bit integer without a detour through
/// double (golden BIGINT values exceed 2^53).
int64_t JsonInt64(const nlohmann::json& value);

}  // namespace strom::testutil
