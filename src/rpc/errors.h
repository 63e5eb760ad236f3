#pragma once

#include <exception>
#include <string_view>

#include "common/status.h"
#include "proto/FlussApi.pb.h"

namespace strom::rpc {

// The one place where an internal Status becomes what a Fluss client reads in an
// ERROR_RESPONSE frame (spec/fluss-rpc.md §1.4 and §5, STYLE.md §3.5).
//
// ErrorCode values already are the wire numbers, so the mapping is mostly the identity. It
// exists to enforce the rules clients depend on:
// - code 0 never goes on the wire as an error (the Java client would fail the call with a
//   null exception): an OK status here is a server bug and becomes UNKNOWN_SERVER_ERROR;
// - a number outside the table this build knows becomes UNKNOWN_SERVER_ERROR, which is also
//   what clients do with numbers they do not know;
// - messages stay human text and are cut (by the frame codec) to a bounded size.

/// The status to put on the wire for `status` (see the rules above).
Status ToWireStatus(const Status& status);

/// The ErrorResponse message for `status`: `error_code` from ToWireStatus, `error_message`
/// set only when there is text.
proto::ErrorResponse ToErrorResponse(const Status& status);

/// The Status a client reads from an ErrorResponse (unknown codes -> UNKNOWN_SERVER_ERROR).
Status FromErrorResponse(const proto::ErrorResponse& response);

/// UNKNOWN_SERVER_ERROR describing an exception that escaped `what` (e.g. a handler).
Status StatusFromException(std::exception_ptr error, std::string_view what);

}  // namespace strom::rpc
