#pragma once

#include "strom/status.h"

namespace strom::cli {

/// Exit codes of the `strom` command (documented in src/cli/README.md and `strom --help`).
enum class ExitCode : int {
  kOk = 0,
  /// Any other failure (UNKNOWN_SERVER_ERROR, DATABASE_NOT_EMPTY, LOG_OFFSET_OUT_OF_RANGE, ...).
  kError = 1,
  /// Bad command line, schema string or option value, or a request the cluster refused as
  /// invalid (INVALID_TABLE_EXCEPTION, INVALID_DATABASE_EXCEPTION, INVALID_CONFIG_EXCEPTION,
  /// INVALID_COLUMN_PROJECTION, INVALID_REPLICATION_FACTOR, INVALID_TIMESTAMP_EXCEPTION, ...).
  kUsage = 2,
  /// The database, table, schema or bucket does not exist.
  kNotFound = 3,
  /// The database or table already exists.
  kAlreadyExists = 4,
  /// Input rows that do not fit the table (produce), or corrupt data read back (scan).
  kBadData = 5,
  /// The cluster could not be reached or did not answer in time (NETWORK_EXCEPTION,
  /// REQUEST_TIME_OUT, LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER).
  kUnavailable = 6,
  /// Authentication or authorization failed.
  kDenied = 7,
  /// Interrupted (Ctrl-C) before finishing, except `scan --follow`, where Ctrl-C is the
  /// normal way to stop (exit 0).
  kInterrupted = 130,
};

/// The exit code for a failed status (see ExitCode).
ExitCode ExitCodeFor(const Status& status);

}  // namespace strom::cli
