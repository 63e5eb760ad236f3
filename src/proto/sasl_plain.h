#pragma once

#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"

namespace strom::proto {

/// SASL mechanism name of AuthenticateRequest.protocol for PLAIN.
inline constexpr std::string_view kSaslPlainMechanism = "PLAIN";

/// The three parts of a SASL/PLAIN client token (RFC 4616).
struct SaslPlainCredentials {
  std::string authorization_id;  ///< empty unless the client asks to act as another user
  std::string username;
  std::string password;
};

/// Builds the AuthenticateRequest.token for PLAIN: authzid, NUL, username, NUL, password.
/// Fluss clients leave the authorization id empty. Fails with kInvalidConfig when a part
/// contains a NUL byte (the token would be ambiguous).
Result<ByteBuffer> EncodeSaslPlainToken(std::string_view username, std::string_view password,
                                        std::string_view authorization_id = {});

/// Splits a PLAIN token the way the Fluss server does: exactly three NUL-separated parts,
/// a non-empty username and password, and an authorization id that is empty or equal to
/// the username. Every violation is a kAuthenticate error. The bytes are taken as they
/// are (no UTF-8 validation); checking the password is the caller's job.
Result<SaslPlainCredentials> DecodeSaslPlainToken(ByteView token);

}  // namespace strom::proto
