#include "testutil/golden.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace strom::testutil {

nlohmann::json LoadGolden(const std::string& name) {
  std::string path = std::string(STROM_GOLDEN_DIR) + "/" + name;
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot open golden file " << path;
    return nullptr;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    ADD_FAILURE() << "golden file " << path << " is not valid JSON";
    return nullptr;
  }
  return doc;
}

ByteBuffer Hex(const std::string& hex) {
  ByteBuffer out;
  if (!FromHex(hex, &out)) ADD_FAILURE() << "bad hex in golden data: " << hex;
  return out;
}

int64_t JsonInt64(const nlohmann::json& value) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_unsigned()) return static_cast<int64_t>(value.get<uint64_t>());
  if (value.is_string()) return std::stoll(value.get<std::string>());
  ADD_FAILURE() << "expected an integer, got " << value.dump();
  return 0;
}

}  // namespace strom::testutil
