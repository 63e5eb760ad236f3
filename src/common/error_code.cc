#include "common/error_code.h"

namespace strom {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
#define STROM_X(name, value, wire, retriable, metadata) \
  case ErrorCode::name:                                 \
    return wire;
    STROM_ERROR_CODES(STROM_X)
#undef STROM_X
  }
  return "UNKNOWN_SERVER_ERROR";
}

bool IsRetriable(ErrorCode code) {
  switch (code) {
#define STROM_X(name, value, wire, retriable, metadata) \
  case ErrorCode::name:                                 \
    return retriable;
    STROM_ERROR_CODES(STROM_X)
#undef STROM_X
  }
  return false;
}

bool InvalidatesMetadata(ErrorCode code) {
  switch (code) {
#define STROM_X(name, value, wire, retriable, metadata) \
  case ErrorCode::name:                                 \
    return metadata;
    STROM_ERROR_CODES(STROM_X)
#undef STROM_X
  }
  return false;
}

ErrorCode ErrorCodeFromWire(int32_t value) {
  switch (value) {
#define STROM_X(name, value, wire, retriable, metadata) \
  case value:                                           \
    return ErrorCode::name;
    STROM_ERROR_CODES(STROM_X)
#undef STROM_X
    default:
      return ErrorCode::kUnknownServerError;
  }
}

}  // namespace strom
