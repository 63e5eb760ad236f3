#include "cli/exit_codes.h"

namespace strom::cli {

ExitCode ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kNone:
      return ExitCode::kOk;
    case ErrorCode::kInvalidTable:
    case ErrorCode::kInvalidDatabase:
    case ErrorCode::kInvalidConfig:
    case ErrorCode::kInvalidColumnProjection:
    case ErrorCode::kInvalidReplicationFactor:
    case ErrorCode::kInvalidRequiredAcks:
    case ErrorCode::kInvalidTimestamp:
    case ErrorCode::kInvalidAlterTable:
    case ErrorCode::kInvalidTargetColumn:
    case ErrorCode::kPartitionSpecInvalid:
    case ErrorCode::kTableNotPartitioned:
    case ErrorCode::kNonPrimaryKeyTable:
    case ErrorCode::kBucketMaxNum:
    case ErrorCode::kPartitionMaxNum:
    case ErrorCode::kUnsupportedVersion:
      return ExitCode::kUsage;
    case ErrorCode::kDatabaseNotExist:
    case ErrorCode::kTableNotExist:
    case ErrorCode::kSchemaNotExist:
    case ErrorCode::kPartitionNotExists:
    case ErrorCode::kUnknownTableOrBucket:
    case ErrorCode::kKvSnapshotNotExist:
    case ErrorCode::kLakeSnapshotNotExist:
    case ErrorCode::kServerNotExist:
    case ErrorCode::kNoRebalanceInProgress:
      return ExitCode::kNotFound;
    case ErrorCode::kDatabaseAlreadyExist:
    case ErrorCode::kTableAlreadyExist:
    case ErrorCode::kPartitionAlreadyExists:
    case ErrorCode::kLakeTableAlreadyExist:
      return ExitCode::kAlreadyExists;
    case ErrorCode::kCorruptRecord:
    case ErrorCode::kCorruptMessage:
    case ErrorCode::kRecordTooLarge:
      return ExitCode::kBadData;
    case ErrorCode::kNetwork:
    case ErrorCode::kRequestTimeOut:
    case ErrorCode::kLeaderNotAvailable:
    case ErrorCode::kNotLeaderOrFollower:
    case ErrorCode::kNotEnoughReplicas:
    case ErrorCode::kNotEnoughReplicasAfterAppend:
      return ExitCode::kUnavailable;
    case ErrorCode::kAuthenticate:
    case ErrorCode::kRetriableAuthenticate:
    case ErrorCode::kAuthorization:
    case ErrorCode::kSecurityDisabled:
      return ExitCode::kDenied;
    default:
      return ExitCode::kError;
  }
}

}  // namespace strom::cli
