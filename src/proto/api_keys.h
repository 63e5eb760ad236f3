#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace strom::proto {

/// Who may send an api: clients (kPublic) or only other servers (kPrivate).
enum class ApiVisibility : uint8_t { kPublic, kPrivate };

/// Which server role answers an api in Fluss 0.9.1.
enum class ServedBy : uint8_t { kCoordinator, kTabletServer, kBoth };

/// The role numbers of ApiVersionsResponse.server_type.
enum class ServerType : int32_t { kCoordinator = 1, kTabletServer = 2 };

/// X-macro list of every Fluss 0.9.1 api, plus ALTER_DATABASE (1060) and SCAN_KV (1061) from
/// Fluss main (0.9.1 clients skip ids they do not know in ApiVersions):
/// (enumerator, wire id, Fluss name, min version, max version, visibility, served by, stem).
/// The request and response messages of an api are `<stem>Request` and `<stem>Response` in
/// proto/FlussApi.proto.
#define STROM_API_KEYS(X)                                                                        \
  X(kApiVersions, 1000, "API_VERSIONS", 0, 0, kPublic, kBoth, ApiVersions)                       \
  X(kCreateDatabase, 1001, "CREATE_DATABASE", 0, 0, kPublic, kCoordinator, CreateDatabase)       \
  X(kDropDatabase, 1002, "DROP_DATABASE", 0, 0, kPublic, kCoordinator, DropDatabase)             \
  X(kListDatabases, 1003, "LIST_DATABASES", 0, 0, kPublic, kBoth, ListDatabases)                 \
  X(kDatabaseExists, 1004, "DATABASE_EXISTS", 0, 0, kPublic, kBoth, DatabaseExists)              \
  X(kCreateTable, 1005, "CREATE_TABLE", 0, 0, kPublic, kCoordinator, CreateTable)                \
  X(kDropTable, 1006, "DROP_TABLE", 0, 0, kPublic, kCoordinator, DropTable)                      \
  X(kGetTableInfo, 1007, "GET_TABLE_INFO", 0, 0, kPublic, kBoth, GetTableInfo)                   \
  X(kListTables, 1008, "LIST_TABLES", 0, 0, kPublic, kBoth, ListTables)                          \
  X(kListPartitionInfos, 1009, "LIST_PARTITION_INFOS", 0, 0, kPublic, kBoth, ListPartitionInfos) \
  X(kTableExists, 1010, "TABLE_EXISTS", 0, 0, kPublic, kBoth, TableExists)                       \
  X(kGetTableSchema, 1011, "GET_TABLE_SCHEMA", 0, 0, kPublic, kBoth, GetTableSchema)             \
  X(kGetMetadata, 1012, "GET_METADATA", 0, 0, kPublic, kBoth, Metadata)                          \
  X(kUpdateMetadata, 1013, "UPDATE_METADATA", 0, 0, kPrivate, kTabletServer, UpdateMetadata)     \
  X(kProduceLog, 1014, "PRODUCE_LOG", 0, 0, kPublic, kTabletServer, ProduceLog)                  \
  X(kFetchLog, 1015, "FETCH_LOG", 0, 0, kPublic, kTabletServer, FetchLog)                        \
  X(kPutKv, 1016, "PUT_KV", 0, 1, kPublic, kTabletServer, PutKv)                                 \
  X(kLookup, 1017, "LOOKUP", 0, 1, kPublic, kTabletServer, Lookup)                               \
  X(kNotifyLeaderAndIsr, 1018, "NOTIFY_LEADER_AND_ISR", 0, 0, kPrivate, kTabletServer,           \
    NotifyLeaderAndIsr)                                                                          \
  X(kStopReplica, 1019, "STOP_REPLICA", 0, 0, kPrivate, kTabletServer, StopReplica)              \
  X(kAdjustIsr, 1020, "ADJUST_ISR", 0, 0, kPrivate, kCoordinator, AdjustIsr)                     \
  X(kListOffsets, 1021, "LIST_OFFSETS", 0, 0, kPublic, kTabletServer, ListOffsets)               \
  X(kCommitKvSnapshot, 1022, "COMMIT_KV_SNAPSHOT", 0, 0, kPrivate, kCoordinator,                 \
    CommitKvSnapshot)                                                                            \
  X(kGetLatestKvSnapshots, 1023, "GET_LATEST_KV_SNAPSHOTS", 0, 0, kPublic, kBoth,                \
    GetLatestKvSnapshots)                                                                        \
  X(kGetKvSnapshotMetadata, 1024, "GET_KV_SNAPSHOT_METADATA", 0, 0, kPublic, kBoth,              \
    GetKvSnapshotMetadata)                                                                       \
  X(kGetFileSystemSecurityToken, 1025, "GET_FILESYSTEM_SECURITY_TOKEN", 0, 0, kPublic, kBoth,    \
    GetFileSystemSecurityToken)                                                                  \
  X(kInitWriter, 1026, "INIT_WRITER", 0, 0, kPublic, kTabletServer, InitWriter)                  \
  X(kCommitRemoteLogManifest, 1027, "COMMIT_REMOTE_LOG_MANIFEST", 0, 0, kPrivate, kCoordinator,  \
    CommitRemoteLogManifest)                                                                     \
  X(kNotifyRemoteLogOffsets, 1028, "NOTIFY_REMOTE_LOG_OFFSETS", 0, 0, kPrivate, kTabletServer,   \
    NotifyRemoteLogOffsets)                                                                      \
  X(kNotifyKvSnapshotOffset, 1029, "NOTIFY_KV_SNAPSHOT_OFFSET", 0, 0, kPrivate, kTabletServer,   \
    NotifyKvSnapshotOffset)                                                                      \
  X(kCommitLakeTableSnapshot, 1030, "COMMIT_LAKE_TABLE_SNAPSHOT", 0, 0, kPrivate, kCoordinator,  \
    CommitLakeTableSnapshot)                                                                     \
  X(kNotifyLakeTableOffset, 1031, "NOTIFY_LAKE_TABLE_OFFSET", 0, 0, kPrivate, kTabletServer,     \
    NotifyLakeTableOffset)                                                                       \
  X(kGetLakeSnapshot, 1032, "GET_LAKE_SNAPSHOT", 0, 0, kPublic, kBoth, GetLakeSnapshot)          \
  X(kLimitScan, 1033, "LIMIT_SCAN", 0, 0, kPublic, kTabletServer, LimitScan)                     \
  X(kPrefixLookup, 1034, "PREFIX_LOOKUP", 0, 1, kPublic, kTabletServer, PrefixLookup)            \
  X(kGetDatabaseInfo, 1035, "GET_DATABASE_INFO", 0, 0, kPublic, kBoth, GetDatabaseInfo)          \
  X(kCreatePartition, 1036, "CREATE_PARTITION", 0, 0, kPublic, kCoordinator, CreatePartition)    \
  X(kDropPartition, 1037, "DROP_PARTITION", 0, 0, kPublic, kCoordinator, DropPartition)          \
  X(kAuthenticate, 1038, "AUTHENTICATE", 0, 0, kPublic, kBoth, Authenticate)                     \
  X(kCreateAcls, 1039, "CREATE_ACLS", 0, 0, kPublic, kCoordinator, CreateAcls)                   \
  X(kListAcls, 1040, "LIST_ACLS", 0, 0, kPublic, kBoth, ListAcls)                                \
  X(kDropAcls, 1041, "DROP_ACLS", 0, 0, kPublic, kCoordinator, DropAcls)                         \
  X(kLakeTieringHeartbeat, 1042, "LAKE_TIERING_HEARTBEAT", 0, 0, kPrivate, kCoordinator,         \
    LakeTieringHeartbeat)                                                                        \
  X(kControlledShutdown, 1043, "CONTROLLED_SHUTDOWN", 0, 0, kPrivate, kCoordinator,              \
    ControlledShutdown)                                                                          \
  X(kAlterTable, 1044, "ALTER_TABLE", 0, 0, kPublic, kCoordinator, AlterTable)                   \
  X(kDescribeClusterConfigs, 1045, "DESCRIBE_CLUSTER_CONFIGS", 0, 0, kPublic, kBoth,             \
    DescribeClusterConfigs)                                                                      \
  X(kAlterClusterConfigs, 1046, "ALTER_CLUSTER_CONFIGS", 0, 0, kPublic, kCoordinator,            \
    AlterClusterConfigs)                                                                         \
  X(kAddServerTag, 1047, "ADD_SERVER_TAG", 0, 0, kPublic, kCoordinator, AddServerTag)            \
  X(kRemoveServerTag, 1048, "REMOVE_SERVER_TAG", 0, 0, kPublic, kCoordinator, RemoveServerTag)   \
  X(kRebalance, 1049, "REBALANCE", 0, 0, kPublic, kCoordinator, Rebalance)                       \
  X(kListRebalanceProgress, 1050, "LIST_REBALANCE_PROGRESS", 0, 0, kPublic, kCoordinator,        \
    ListRebalanceProgress)                                                                       \
  X(kCancelRebalance, 1051, "CANCEL_REBALANCE", 0, 0, kPublic, kCoordinator, CancelRebalance)    \
  X(kPrepareLakeTableSnapshot, 1052, "PREPARE_LAKE_TABLE_SNAPSHOT", 0, 0, kPrivate,              \
    kCoordinator, PrepareLakeTableSnapshot)                                                      \
  X(kRegisterProducerOffsets, 1053, "REGISTER_PRODUCER_OFFSETS", 0, 0, kPublic, kCoordinator,    \
    RegisterProducerOffsets)                                                                     \
  X(kGetProducerOffsets, 1054, "GET_PRODUCER_OFFSETS", 0, 0, kPublic, kCoordinator,              \
    GetProducerOffsets)                                                                          \
  X(kDeleteProducerOffsets, 1055, "DELETE_PRODUCER_OFFSETS", 0, 0, kPublic, kCoordinator,        \
    DeleteProducerOffsets)                                                                       \
  X(kAcquireKvSnapshotLease, 1056, "ACQUIRE_KV_SNAPSHOT_LEASE", 0, 0, kPublic, kCoordinator,     \
    AcquireKvSnapshotLease)                                                                      \
  X(kReleaseKvSnapshotLease, 1057, "RELEASE_KV_SNAPSHOT_LEASE", 0, 0, kPublic, kCoordinator,     \
    ReleaseKvSnapshotLease)                                                                      \
  X(kDropKvSnapshotLease, 1058, "DROP_KV_SNAPSHOT_LEASE", 0, 0, kPublic, kCoordinator,           \
    DropKvSnapshotLease)                                                                         \
  X(kGetTableStats, 1059, "GET_TABLE_STATS", 0, 0, kPublic, kTabletServer, GetTableStats)  \
  X(kAlterDatabase, 1060, "ALTER_DATABASE", 0, 0, kPublic, kCoordinator, AlterDatabase)      \
  X(kScanKv, 1061, "SCAN_KV", 0, 0, kPublic, kTabletServer, ScanKv)

/// Fluss api keys; the values are the 16-bit ids of the request frame header.
enum class ApiKey : int16_t {
#define STROM_X(name, id, wire, min, max, vis, role, stem) name = id,
  STROM_API_KEYS(STROM_X)
#undef STROM_X
};

/// Smallest and largest id in the table (the range is contiguous).
inline constexpr int16_t kMinApiId = 1000;
inline constexpr int16_t kMaxApiId = 1061;

/// Static description of one api (one row of the table above).
struct ApiInfo {
  ApiKey key;
  std::string_view name;  ///< Fluss's name, e.g. "PUT_KV".
  int16_t min_version;
  int16_t max_version;
  ApiVisibility visibility;
  ServedBy served_by;
  std::string_view request_message;   ///< e.g. "PutKvRequest".
  std::string_view response_message;  ///< e.g. "PutKvResponse".

  constexpr int16_t id() const { return static_cast<int16_t>(key); }
  /// True when `version` lies in [min_version, max_version].
  constexpr bool SupportsVersion(int16_t version) const {
    return version >= min_version && version <= max_version;
  }
  /// True when a server of role `type` answers this api.
  constexpr bool IsServedBy(ServerType type) const {
    return served_by == ServedBy::kBoth ||
           (type == ServerType::kCoordinator) == (served_by == ServedBy::kCoordinator);
  }
};

/// Every api, ordered by id.
std::span<const ApiInfo> AllApis();

/// The entry for a wire id, or nullptr when this build does not know the id (unknown ids
/// still deserve an ERROR_RESPONSE; see docs/formats/wire-frame.md).
const ApiInfo* FindApi(int16_t id);

/// The entry of a known key. `key` must be one of the enumerators.
const ApiInfo& GetApiInfo(ApiKey key);

/// The key for a wire id, or nullopt when the id is unknown.
std::optional<ApiKey> ApiKeyFromWire(int16_t id);

/// Fluss's name of a key ("FETCH_LOG"), or "UNKNOWN" for a value outside the table.
std::string_view ApiKeyName(ApiKey key);

}  // namespace strom::proto
