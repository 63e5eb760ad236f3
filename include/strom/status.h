#pragma once

// Errors of the Strom client API.
//
// Every fallible call returns a strom::Status (OK, or a Fluss error code with a message) or
// a strom::Result<T> (a value or a failed Status). Codes are Fluss's wire error numbers
// (strom::ErrorCode, e.g. ErrorCode::kTableNotExist = 7), so a failure reported by a server
// reaches the caller unchanged; `status.ToString()` reads "TABLE_NOT_EXIST: ...".
// `status.IsRetriable()` tells whether repeating the same call may succeed. Nothing in the
// client API throws.
//
// These are the project-wide types of src/common, re-exported here so that users of the
// client include only <strom/...> headers.

#include "common/error_code.h"  // IWYU pragma: export
#include "common/result.h"      // IWYU pragma: export
#include "common/status.h"      // IWYU pragma: export
