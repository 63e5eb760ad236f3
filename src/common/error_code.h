#pragma once

#include <cstdint>
#include <string_view>

namespace strom {

/// X-macro list of every Fluss wire error code (Fluss 0.9.1 `Errors`), with
/// (enumerator, wire number, Fluss name, retriable, invalidates client metadata).
/// The retriable flag mirrors what the Java client does with the code: true when the
/// Java exception class derives from RetriableException.
#define STROM_ERROR_CODES(X) \
  X(kUnknownServerError, -1, "UNKNOWN_SERVER_ERROR", false, false) \
  X(kNone, 0, "NONE", false, false) \
  X(kNetwork, 1, "NETWORK_EXCEPTION", true, true) \
  X(kUnsupportedVersion, 2, "UNSUPPORTED_VERSION", false, false) \
  X(kCorruptMessage, 3, "CORRUPT_MESSAGE", true, false) \
  X(kDatabaseNotExist, 4, "DATABASE_NOT_EXIST", false, false) \
  X(kDatabaseNotEmpty, 5, "DATABASE_NOT_EMPTY", false, false) \
  X(kDatabaseAlreadyExist, 6, "DATABASE_ALREADY_EXIST", false, false) \
  X(kTableNotExist, 7, "TABLE_NOT_EXIST", false, false) \
  X(kTableAlreadyExist, 8, "TABLE_ALREADY_EXIST", false, false) \
  X(kSchemaNotExist, 9, "SCHEMA_NOT_EXIST", true, false) \
  X(kLogStorage, 10, "LOG_STORAGE_EXCEPTION", true, false) \
  X(kKvStorage, 11, "KV_STORAGE_EXCEPTION", true, false) \
  X(kNotLeaderOrFollower, 12, "NOT_LEADER_OR_FOLLOWER", true, true) \
  X(kRecordTooLarge, 13, "RECORD_TOO_LARGE_EXCEPTION", false, false) \
  X(kCorruptRecord, 14, "CORRUPT_RECORD_EXCEPTION", true, false) \
  X(kInvalidTable, 15, "INVALID_TABLE_EXCEPTION", false, false) \
  X(kInvalidDatabase, 16, "INVALID_DATABASE_EXCEPTION", false, false) \
  X(kInvalidReplicationFactor, 17, "INVALID_REPLICATION_FACTOR", false, false) \
  X(kInvalidRequiredAcks, 18, "INVALID_REQUIRED_ACKS", false, false) \
  X(kLogOffsetOutOfRange, 19, "LOG_OFFSET_OUT_OF_RANGE_EXCEPTION", false, false) \
  X(kNonPrimaryKeyTable, 20, "NON_PRIMARY_KEY_TABLE_EXCEPTION", false, false) \
  X(kUnknownTableOrBucket, 21, "UNKNOWN_TABLE_OR_BUCKET_EXCEPTION", true, true) \
  X(kInvalidUpdateVersion, 22, "INVALID_UPDATE_VERSION_EXCEPTION", false, false) \
  X(kInvalidCoordinator, 23, "INVALID_COORDINATOR_EXCEPTION", false, false) \
  X(kFencedLeaderEpoch, 24, "FENCED_LEADER_EPOCH_EXCEPTION", false, false) \
  X(kRequestTimeOut, 25, "REQUEST_TIME_OUT", true, false) \
  X(kStorage, 26, "STORAGE_EXCEPTION", true, false) \
  X(kOperationNotAttempted, 27, "OPERATION_NOT_ATTEMPTED_EXCEPTION", false, false) \
  X(kNotEnoughReplicasAfterAppend, 28, "NOT_ENOUGH_REPLICAS_AFTER_APPEND_EXCEPTION", true, false) \
  X(kNotEnoughReplicas, 29, "NOT_ENOUGH_REPLICAS_EXCEPTION", true, false) \
  X(kSecurityToken, 30, "SECURITY_TOKEN_EXCEPTION", false, false) \
  X(kOutOfOrderSequence, 31, "OUT_OF_ORDER_SEQUENCE_EXCEPTION", false, false) \
  X(kDuplicateSequence, 32, "DUPLICATE_SEQUENCE_EXCEPTION", false, false) \
  X(kUnknownWriterId, 33, "UNKNOWN_WRITER_ID_EXCEPTION", false, false) \
  X(kInvalidColumnProjection, 34, "INVALID_COLUMN_PROJECTION", false, false) \
  X(kInvalidTargetColumn, 35, "INVALID_TARGET_COLUMN", false, false) \
  X(kPartitionNotExists, 36, "PARTITION_NOT_EXISTS", false, false) \
  X(kTableNotPartitioned, 37, "TABLE_NOT_PARTITIONED_EXCEPTION", false, false) \
  X(kInvalidTimestamp, 38, "INVALID_TIMESTAMP_EXCEPTION", false, false) \
  X(kInvalidConfig, 39, "INVALID_CONFIG_EXCEPTION", false, false) \
  X(kLakeStorageNotConfigured, 40, "LAKE_STORAGE_NOT_CONFIGURED_EXCEPTION", false, false) \
  X(kKvSnapshotNotExist, 41, "KV_SNAPSHOT_NOT_EXIST", false, false) \
  X(kPartitionAlreadyExists, 42, "PARTITION_ALREADY_EXISTS", false, false) \
  X(kPartitionSpecInvalid, 43, "PARTITION_SPEC_INVALID_EXCEPTION", false, false) \
  X(kLeaderNotAvailable, 44, "LEADER_NOT_AVAILABLE_EXCEPTION", true, true) \
  X(kPartitionMaxNum, 45, "PARTITION_MAX_NUM_EXCEPTION", false, false) \
  X(kAuthenticate, 46, "AUTHENTICATE_EXCEPTION", false, false) \
  X(kSecurityDisabled, 47, "SECURITY_DISABLED_EXCEPTION", false, false) \
  X(kAuthorization, 48, "AUTHORIZATION_EXCEPTION", false, false) \
  X(kBucketMaxNum, 49, "BUCKET_MAX_NUM_EXCEPTION", false, false) \
  X(kFencedTieringEpoch, 50, "FENCED_TIERING_EPOCH_EXCEPTION", false, false) \
  X(kRetriableAuthenticate, 51, "RETRIABLE_AUTHENTICATE_EXCEPTION", false, false) \
  X(kInvalidServerRackInfo, 52, "INVALID_SERVER_RACK_INFO_EXCEPTION", false, false) \
  X(kLakeSnapshotNotExist, 53, "LAKE_SNAPSHOT_NOT_EXIST", false, false) \
  X(kLakeTableAlreadyExist, 54, "LAKE_TABLE_ALREADY_EXIST", false, false) \
  X(kIneligibleReplica, 55, "INELIGIBLE_REPLICA_EXCEPTION", false, false) \
  X(kInvalidAlterTable, 56, "INVALID_ALTER_TABLE_EXCEPTION", false, false) \
  X(kDeletionDisabled, 57, "DELETION_DISABLED_EXCEPTION", false, false) \
  X(kServerNotExist, 58, "SERVER_NOT_EXIST_EXCEPTION", false, false) \
  X(kSeverTagAlreadyExist, 59, "SEVER_TAG_ALREADY_EXIST_EXCEPTION", false, false) \
  X(kSeverTagNotExist, 60, "SEVER_TAG_NOT_EXIST_EXCEPTION", false, false) \
  X(kRebalanceFailure, 61, "REBALANCE_FAILURE_EXCEPTION", false, false) \
  X(kNoRebalanceInProgress, 62, "NO_REBALANCE_IN_PROGRESS_EXCEPTION", false, false) \
  X(kInvalidProducerId, 63, "INVALID_PRODUCER_ID_EXCEPTION", false, false) \
  X(kConfig, 64, "CONFIG_EXCEPTION", false, false) \
  X(kNotCoordinatorLeader, 65, "NOT_COORDINATOR_LEADER_EXCEPTION", false, false) \
  X(kScannerExpired, 66, "SCANNER_EXPIRED", false, false) \
  X(kUnknownScannerId, 67, "UNKNOWN_SCANNER_ID", false, false) \
  X(kInvalidScanRequest, 68, "INVALID_SCAN_REQUEST", false, false) \
  X(kTooManyScanners, 69, "TOO_MANY_SCANNERS", false, false)

/// Error codes whose values are the Fluss wire numbers, so a Status can be put on the
/// wire without a translation table.
enum class ErrorCode : int32_t {
#define STROM_X(name, value, wire, retriable, metadata) name = value,
  STROM_ERROR_CODES(STROM_X)
#undef STROM_X
};

/// Largest code this build knows; codes above it decode as kUnknownServerError.
inline constexpr int32_t kMaxKnownErrorCode = 69;

/// Fluss's name for the code, e.g. "TABLE_NOT_EXIST".
std::string_view ErrorCodeName(ErrorCode code);

/// True when a client should retry the same request (Fluss RetriableException family).
bool IsRetriable(ErrorCode code);

/// True when a client should refresh its cached metadata before retrying.
bool InvalidatesMetadata(ErrorCode code);

/// Maps a number read from the wire onto a known code (unknown numbers become
/// kUnknownServerError, as the Java client does).
ErrorCode ErrorCodeFromWire(int32_t value);

}  // namespace strom
