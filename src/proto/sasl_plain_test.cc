#include "proto/sasl_plain.h"

#include <gtest/gtest.h>

#include <string>

namespace strom::proto {
namespace {

using namespace std::string_literals;

// spec/fluss-rpc.md §15.1 item 5 (vectors from fluss-rust's authenticate tests).
TEST(SaslPlainTest, GoldenTokens) {
  EXPECT_EQ(kSaslPlainMechanism, "PLAIN");
  auto token = EncodeSaslPlainToken("admin", "secret");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(ToHex(*token), "0061646d696e00736563726574");

  auto empty = EncodeSaslPlainToken("", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(ToHex(*empty), "0000");

  auto decoded = DecodeSaslPlainToken(*token);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->authorization_id, "");
  EXPECT_EQ(decoded->username, "admin");
  EXPECT_EQ(decoded->password, "secret");
}

TEST(SaslPlainTest, AuthorizationIdRoundTrip) {
  auto token = EncodeSaslPlainToken("bob", "pw", "bob");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(*token, "bob\0bob\0pw"s);
  auto decoded = DecodeSaslPlainToken(*token);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->authorization_id, "bob");
  EXPECT_EQ(decoded->username, "bob");
  // Passwords may contain any byte but NUL, including non-ASCII ones.
  decoded = DecodeSaslPlainToken("\0u\0p\xc3\xa9 \x01"s);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->password, "p\xc3\xa9 \x01");
}

TEST(SaslPlainTest, EncoderRejectsNul) {
  EXPECT_EQ(EncodeSaslPlainToken("a\0b"s, "pw").status().code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(EncodeSaslPlainToken("ab", "p\0w"s).status().code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(EncodeSaslPlainToken("ab", "pw", "\0"s).status().code(), ErrorCode::kInvalidConfig);
}

TEST(SaslPlainTest, DecoderRejectsWhatFlussRejects) {
  for (const std::string& bad : {""s, "admin"s, "\0admin"s, "\0admin\0secret\0"s,
                                 "\0admin\0secret\0x"s, "\0\0secret"s, "\0admin\0"s, "\0\0"s,
                                 "eve\0admin\0secret"s}) {
    auto decoded = DecodeSaslPlainToken(bad);
    ASSERT_FALSE(decoded.ok()) << ToHex(bad);
    EXPECT_EQ(decoded.status().code(), ErrorCode::kAuthenticate) << ToHex(bad);
  }
}

}  // namespace
}  // namespace strom::proto
