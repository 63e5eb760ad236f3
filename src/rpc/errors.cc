#include "rpc/errors.h"

#include <fmt/format.h>

#include <string>

namespace strom::rpc {

Status ToWireStatus(const Status& status) {
  if (status.ok()) {
    return Status(ErrorCode::kUnknownServerError,
                  "internal error: a request failed with an OK status");
  }
  int32_t number = static_cast<int32_t>(status.code());
  if (ErrorCodeFromWire(number) != status.code()) {
    return MakeError(ErrorCode::kUnknownServerError, "internal error code {}: {}", number,
                     status.message());
  }
  return status;
}

proto::ErrorResponse ToErrorResponse(const Status& status) {
  Status wire = ToWireStatus(status);
  proto::ErrorResponse response;
  response.set_error_code(static_cast<int32_t>(wire.code()));
  if (!wire.message().empty()) response.set_error_message(wire.message());
  return response;
}

Status FromErrorResponse(const proto::ErrorResponse& response) {
  ErrorCode code = ErrorCodeFromWire(response.error_code());
  if (code == ErrorCode::kNone) {
    // A peer that sends code 0 in an error frame is broken; do not turn it into success.
    return Status(ErrorCode::kUnknownServerError,
                  "error response with code 0: " + response.error_message());
  }
  return Status(code, response.error_message());
}

Status StatusFromException(std::exception_ptr error, std::string_view what) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kUnknownServerError, "{} threw: {}", what, e.what());
  } catch (...) {
    return MakeError(ErrorCode::kUnknownServerError, "{} threw a non-standard exception", what);
  }
}

}  // namespace strom::rpc
