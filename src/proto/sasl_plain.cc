#include "proto/sasl_plain.h"

#include <array>

namespace strom::proto {

Result<ByteBuffer> EncodeSaslPlainToken(std::string_view username, std::string_view password,
                                        std::string_view authorization_id) {
  for (std::string_view part : {authorization_id, username, password}) {
    if (part.find('\0') != std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidConfig,
                       "SASL/PLAIN credentials must not contain NUL bytes");
    }
  }
  ByteBuffer token;
  token.reserve(authorization_id.size() + username.size() + password.size() + 2);
  token.append(authorization_id);
  token.push_back('\0');
  token.append(username);
  token.push_back('\0');
  token.append(password);
  return token;
}

Result<SaslPlainCredentials> DecodeSaslPlainToken(ByteView token) {
  std::array<ByteView, 3> parts;
  size_t start = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    size_t nul = token.find('\0', start);
    bool last = i + 1 == parts.size();
    if (last != (nul == ByteView::npos)) {
      return MakeError(ErrorCode::kAuthenticate,
                       "invalid SASL/PLAIN token: expected 3 NUL-separated parts");
    }
    parts[i] = token.substr(start, last ? ByteView::npos : nul - start);
    start = nul + 1;
  }
  SaslPlainCredentials credentials{std::string(parts[0]), std::string(parts[1]),
                                   std::string(parts[2])};
  if (credentials.username.empty()) {
    return MakeError(ErrorCode::kAuthenticate, "SASL/PLAIN authentication failed: no username");
  }
  if (credentials.password.empty()) {
    return MakeError(ErrorCode::kAuthenticate, "SASL/PLAIN authentication failed: no password");
  }
  if (!credentials.authorization_id.empty() &&
      credentials.authorization_id != credentials.username) {
    return MakeError(ErrorCode::kAuthenticate,
                     "SASL/PLAIN authentication failed: authorization id differs from username");
  }
  return credentials;
}

}  // namespace strom::proto
