#pragma once

#include <cstdint>
#include <string>

#include "common/config/config.h"

namespace strom::config {

/// Every option Strom reads, under Fluss's own key and with Fluss 0.9.1's default, so an
/// existing Fluss `server.yaml` carries over. Columns:
/// (C++ name, value type, key, OptionType, default text, description, enum values).
/// Durations are read as Duration, memory sizes as int64 bytes.
#define STROM_CONFIG_OPTIONS(X)                                                               \
  /* Cluster layout and listeners */                                                          \
  X(kBindListeners, std::string, "bind.listeners", kString, "",                               \
    "Listeners the server binds, as NAME://host:port[,NAME://host:port]. Empty: the default " \
    "listener FLUSS on the role's host and port options.", "")                                \
  X(kAdvertisedListeners, std::string, "advertised.listeners", kString, "",                   \
    "Listeners published to clients when they differ from bind.listeners (NAT, containers).", \
    "")                                                                                       \
  X(kInternalListenerName, std::string, "internal.listener.name", kString, "FLUSS",           \
    "Name of the listener servers use to talk to each other.", "")                            \
  X(kCoordinatorHost, std::string, "coordinator.host", kString, "",                           \
    "Host of the coordinator listener when bind.listeners is not set (deprecated in Fluss).", \
    "")                                                                                       \
  X(kCoordinatorPort, std::string, "coordinator.port", kString, "9123",                       \
    "Port of the coordinator listener when bind.listeners is not set.", "")                   \
  X(kTabletServerHost, std::string, "tablet-server.host", kString, "",                        \
    "Host of the tablet-server listener when bind.listeners is not set.", "")                 \
  X(kTabletServerPort, std::string, "tablet-server.port", kString, "0",                       \
    "Port of the tablet-server listener when bind.listeners is not set (0: any free port).",  \
    "")                                                                                       \
  X(kTabletServerId, int32_t, "tablet-server.id", kInt, "",                                   \
    "Unique id of this tablet server in the cluster (required for tablet servers).", "")      \
  X(kTabletServerRack, std::string, "tablet-server.rack", kString, "",                        \
    "Rack of this tablet server, used to spread the replicas of a bucket across racks.", "")  \
  X(kDataDir, std::string, "data.dir", kString, "/tmp/fluss-data",                            \
    "Local directory for log and KV tablets and checkpoint files.", "")                       \
  X(kRemoteDataDir, std::string, "remote.data.dir", kString, "",                              \
    "Remote storage root (file:// or s3://) for tiered log segments and KV snapshots.", "")   \
  X(kDefaultBucketNumber, int32_t, "default.bucket.number", kInt, "1",                        \
    "Buckets of a new table that does not name a bucket count.", "")                          \
  X(kDefaultReplicationFactor, int32_t, "default.replication.factor", kInt, "1",              \
    "Replicas per bucket of a new table that does not set table.replication.factor.", "")     \
  X(kMaxPartitionNum, int32_t, "max.partition.num", kInt, "1000",                             \
    "Upper bound on partitions in the cluster; creating more fails.", "")                     \
  X(kMaxBucketNum, int32_t, "max.bucket.num", kInt, "128000",                                 \
    "Upper bound on buckets in the cluster; creating more fails.", "")                        \
  X(kAllowCreateLogTables, bool, "allow.create.log.tables", kBool, "true",                    \
    "Whether clients may create log tables (tables without a primary key).", "")              \
  X(kAllowCreateKvTables, bool, "allow.create.kv.tables", kBool, "true",                      \
    "Whether clients may create primary-key tables.", "")                                     \
  X(kAutoPartitionCheckInterval, Duration, "auto-partition.check.interval", kDuration,        \
    "10 min", "How often the coordinator creates and expires automatic partitions.", "")      \
  X(kWriterIdExpirationTime, Duration, "server.writer-id.expiration-time", kDuration, "7 d",  \
    "Idle time after which a writer id's idempotence state is dropped.", "")                  \
  X(kWriterIdExpirationCheckInterval, Duration, "server.writer-id.expiration-check-interval", \
    kDuration, "10 min", "How often expired writer ids are looked for.", "")                  \
  X(kServerBackgroundThreads, int32_t, "server.background.threads", kInt, "10",               \
    "Threads for blocking background work (fsync, file deletion, snapshots).", "")            \
  X(kServerIoPoolSize, int32_t, "server.io-pool.size", kInt, "10",                            \
    "Threads for blocking I/O such as remote storage transfers.", "")                         \
  /* ZooKeeper */                                                                             \
  X(kZookeeperAddress, std::string, "zookeeper.address", kString, "",                         \
    "ZooKeeper connect string host:port[,host:port]; required for the distributed roles.",    \
    "")                                                                                       \
  X(kZookeeperPathRoot, std::string, "zookeeper.path.root", kString, "/fluss",                \
    "Root znode under which all cluster state lives.", "")                                    \
  X(kZookeeperSessionTimeout, Duration, "zookeeper.client.session-timeout", kDuration,        \
    "60 s", "ZooKeeper session timeout; a server that loses its session steps down.", "")     \
  X(kZookeeperConnectionTimeout, Duration, "zookeeper.client.connection-timeout", kDuration,  \
    "15 s", "Time allowed to establish a ZooKeeper connection.", "")                          \
  X(kZookeeperRetryWait, Duration, "zookeeper.client.retry-wait", kDuration, "5 s",           \
    "Pause between ZooKeeper connection attempts.", "")                                       \
  X(kZookeeperMaxRetryAttempts, int32_t, "zookeeper.client.max-retry-attempts", kInt, "3",    \
    "Attempts before a ZooKeeper operation fails.", "")                                       \
  X(kZookeeperMaxInflightRequests, int32_t, "zookeeper.client.max-inflight-requests", kInt,   \
    "100", "Bound on concurrent asynchronous ZooKeeper requests.", "")                        \
  X(kStromCoordinatorServerProbeAttempts, int32_t,                                            \
    "strom.coordinator.tablet-server-probe.attempts", kInt, "3",                              \
    "Strom: when the coordinator's connection to a tablet server closes or cannot be opened, " \
    "it connects to the server this many times, strom.coordinator.tablet-server-probe."      \
    "interval apart; when every attempt is refused (nothing listens: the process is gone), " \
    "the server is dead at once, without waiting for its ZooKeeper session to expire. A "     \
    "connect that is accepted or times out leaves it to the session. 0: off.",                \
    "")                                                                                       \
  X(kStromCoordinatorServerProbeInterval, Duration,                                           \
    "strom.coordinator.tablet-server-probe.interval", kDuration, "100 ms",                    \
    "Strom: pause between the coordinator's connects to a tablet server whose connection "    \
    "closed, and the bound on each connect.",                                                 \
    "")                                                                                       \
  /* Log storage */                                                                           \
  X(kLogSegmentFileSize, int64_t, "log.segment.file-size", kMemorySize, "1024m",              \
    "Size at which the active log segment is rolled.", "")                                    \
  X(kLogSegmentRollTime, Duration, "log.segment.roll-time", kDuration, "7 d",                 \
    "Strom extension: age after which the active segment is rolled even if not full, so "    \
    "retention can reach quiet buckets.", "")                                                 \
  X(kLogIndexFileSize, int64_t, "log.index.file-size", kMemorySize, "10m",                    \
    "Preallocated size of offset and time index files.", "")                                  \
  X(kLogIndexIntervalSize, int64_t, "log.index.interval-size", kMemorySize, "4k",             \
    "Bytes appended between two offset index entries.", "")                                   \
  X(kLogFilePreallocate, bool, "log.file-preallocate", kBool, "false",                        \
    "Preallocate new segment files.", "")                                                     \
  X(kLogFlushIntervalMessages, int64_t, "log.flush.interval-messages", kLong,                 \
    "9223372036854775807", "Records appended before the log is fsynced.", "")                 \
  X(kLogReplicaHighWatermarkCheckpointInterval, Duration,                                     \
    "log.replica.high-watermark.checkpoint-interval", kDuration, "5 s",                       \
    "How often high watermarks are written to the checkpoint file.", "")                      \
  X(kLogReplicaMaxLagTime, Duration, "log.replica.max-lag-time", kDuration, "30 s",           \
    "A follower that has not caught up for this long leaves the ISR.", "")                    \
  X(kLogReplicaMinInSyncReplicasNumber, int32_t, "log.replica.min-in-sync-replicas-number",   \
    kInt, "1", "Smallest ISR with which acks=all writes are accepted.", "")                   \
  X(kLogReplicaFetcherNumber, int32_t, "log.replica.fetcher-number", kInt, "1",               \
    "Fetcher loops a follower runs per source server.", "")                                   \
  X(kLogReplicaFetchBackoffInterval, Duration, "log.replica.fetch.backoff-interval",          \
    kDuration, "1 s", "Pause of a follower fetcher after a failed fetch.", "")                \
  X(kLogReplicaFetchMaxBytes, int64_t, "log.replica.fetch.max-bytes", kMemorySize, "16mb",    \
    "Bytes a follower fetch may return in total.", "")                                        \
  X(kLogReplicaFetchMaxBytesForBucket, int64_t, "log.replica.fetch.max-bytes-for-bucket",     \
    kMemorySize, "1mb", "Bytes a follower fetch may return per bucket.", "")                  \
  X(kLogReplicaFetchWaitMaxTime, Duration, "log.replica.fetch.wait-max-time", kDuration,      \
    "500 ms", "Longest a follower fetch waits for data on the leader.", "")                   \
  X(kLogReplicaFetchMinBytes, int64_t, "log.replica.fetch.min-bytes", kMemorySize, "1b",      \
    "Bytes a follower fetch waits for before the leader answers.", "")                        \
  X(kRemoteLogTaskInterval, Duration, "remote.log.task-interval-duration", kDuration,         \
    "1 min", "How often local segments are copied to remote storage.", "")                    \
  /* KV storage */                                                                            \
  X(kKvSnapshotInterval, Duration, "kv.snapshot.interval", kDuration, "10 min",               \
    "How often each KV tablet takes a snapshot.", "")                                         \
  X(kKvSnapshotNumRetained, int32_t, "kv.snapshot.num-retained", kInt, "2",                   \
    "Completed snapshots kept per KV tablet.", "")                                            \
  X(kKvRocksdbWriteBufferSize, int64_t, "kv.rocksdb.writebuffer.size", kMemorySize, "64mb",   \
    "RocksDB memtable size per KV tablet.", "")                                               \
  X(kKvRocksdbBlockCacheSize, int64_t, "kv.rocksdb.block.cache-size", kMemorySize, "8mb",     \
    "RocksDB block cache per KV tablet.", "")                                                 \
  X(kKvRocksdbThreadNum, int32_t, "kv.rocksdb.thread.num", kInt, "2",                         \
    "Background flush and compaction threads of RocksDB.", "")                                \
  X(kKvRocksdbWriteBufferCount, int32_t, "kv.rocksdb.writebuffer.count", kInt, "2",           \
    "Memtables a KV tablet's RocksDB may hold before writes stall.", "")                      \
  X(kKvRocksdbBlockBlocksize, int64_t, "kv.rocksdb.block.blocksize", kMemorySize, "4kb",      \
    "Uncompressed user data packed per RocksDB block.", "")                                   \
  X(kKvRocksdbUseBloomFilter, bool, "kv.rocksdb.use-bloom-filter", kBool, "true",             \
    "Whether new RocksDB SST files carry a Bloom filter (speeds up point lookups).", "")      \
  X(kKvRocksdbBloomFilterBitsPerKey, double, "kv.rocksdb.bloom-filter.bits-per-key", kDouble, \
    "10.0", "Bits per key of the RocksDB Bloom filter.", "")                                  \
  X(kKvRocksdbCompressionPerLevel, std::string, "kv.rocksdb.compression.per.level", kString,  \
    "LZ4,LZ4,LZ4,LZ4,LZ4,ZSTD,ZSTD",                                                          \
    "Comma-separated compression (NO, SNAPPY, LZ4, ZSTD) of each RocksDB level.", "")        \
  X(kKvRocksdbFilesOpen, int32_t, "kv.rocksdb.files.open", kInt, "-1",                        \
    "Files a KV tablet's RocksDB keeps open; -1 means no limit.", "")                         \
  X(kKvRecoverLogRecordBatchMaxSize, int64_t, "kv.recover.log-record-batch.max-size",         \
    kMemorySize, "16mb", "Changelog bytes read per step when a KV tablet recovers.", "")      \
  X(kStromKvFlushOffReactor, bool, "strom.kv.flush-off-reactor", kBool, "true",              \
    "Strom: leaders write committed KV changes to RocksDB on a worker thread while the "     \
    "reactor takes the next writes; the high watermark moves once the write is in.", "")     \
  X(kKvScannerTtl, Duration, "kv.scanner.ttl", kDuration, "10 min",                           \
    "Idle time after which a KV full-scan session (SCAN_KV) is closed.", "")                  \
  X(kKvScannerExpirationInterval, Duration, "kv.scanner.expiration-interval", kDuration,      \
    "30 s", "How often idle KV full-scan sessions are looked for.", "")                       \
  X(kKvScannerMaxPerBucket, int32_t, "kv.scanner.max-per-bucket", kInt, "8",                  \
    "KV full-scan sessions open at once per bucket (more get TOO_MANY_SCANNERS).", "")        \
  X(kKvScannerMaxPerServer, int32_t, "kv.scanner.max-per-server", kInt, "200",                \
    "KV full-scan sessions open at once per tablet server (more get TOO_MANY_SCANNERS).", "") \
  X(kKvScannerMaxBatchSize, int64_t, "kv.scanner.max-batch-size", kMemorySize, "10mb",        \
    "Cap on the record bytes of one KV full-scan response.", "")                              \
  /* Network */                                                                               \
  X(kNettyServerNumNetworkThreads, int32_t, "netty.server.num-network-threads", kInt, "3",    \
    "Accepted for compatibility; Strom runs one reactor thread per process.", "")             \
  X(kNettyServerMaxQueuedRequests, int32_t, "netty.server.max-queued-requests", kInt, "500",  \
    "Requests queued per server before connections stop being read.", "")                     \
  X(kNettyServerMaxRequestSize, int64_t, "netty.server.max-request-size", kMemorySize,        \
    "100mb", "Largest request frame accepted; larger frames are refused.", "")                \
  X(kNettyConnectionMaxIdleTime, Duration, "netty.connection.max-idle-time", kDuration,       \
    "10 min", "Idle connections are closed after this time.", "")                             \
  X(kStromServerMaxQueuedBytes, int64_t, "strom.server.max-queued-bytes", kMemorySize,       \
    "256mb",                                                                                  \
    "Strom: bytes of requests being handled and responses not yet written, over all "        \
    "connections of a server; at the bound, connections holding part of it are not read "   \
    "until it drops. 0: unbounded.",                                                          \
    "")                                                                                       \
  X(kServerBufferMemorySize, int64_t, "server.buffer.memory-size", kMemorySize, "256mb",      \
    "Memory a server may hold for incoming requests before it applies backpressure.", "")     \
  /* Security */                                                                              \
  X(kAuthorizerEnabled, bool, "authorizer.enabled", kBool, "false",                           \
    "Whether ACLs are checked.", "")                                                          \
  X(kSuperUsers, std::string, "super.users", kString, "",                                     \
    "Principals that bypass ACLs, e.g. User:admin;User:ops.", "")                             \
  /* Table defaults (table properties) */                                                     \
  X(kTableReplicationFactor, int32_t, "table.replication.factor", kInt, "",                   \
    "Replicas per bucket of the table; the server fills in its default.", "")                 \
  X(kTableLogFormat, std::string, "table.log.format", kEnum, "ARROW",                         \
    "Record format of the table's log batches.", "ARROW,INDEXED,COMPACTED")                   \
  X(kTableLogArrowCompressionType, std::string, "table.log.arrow.compression.type", kEnum,    \
    "ZSTD", "Compression of Arrow log batches.", "NONE,LZ4_FRAME,ZSTD")                       \
  X(kTableLogArrowCompressionZstdLevel, int32_t, "table.log.arrow.compression.zstd.level",    \
    kInt, "3", "ZSTD level (1-22) of Arrow log batches.", "")                                 \
  X(kTableKvFormat, std::string, "table.kv.format", kEnum, "COMPACTED",                       \
    "Row format of the values of a primary-key table.", "COMPACTED,INDEXED")                  \
  X(kTableKvFormatVersion, int32_t, "table.kv.format-version", kInt, "",                      \
    "Key encoding version of a primary-key table; new tables get 2.", "")                     \
  X(kTableLogTtl, Duration, "table.log.ttl", kDuration, "7 d",                                \
    "Age after which log segments are deleted.", "")                                          \
  X(kTableLogRetentionSize, int64_t, "table.log.retention-size", kMemorySize, "",            \
    "Strom extension: bytes of log kept per bucket before old segments are deleted; unset "  \
    "keeps everything up to table.log.ttl.", "")                                              \
  X(kTableLogTieredLocalSegments, int32_t, "table.log.tiered.local-segments", kInt, "2",      \
    "Segments kept locally once they are copied to remote storage.", "")                      \
  X(kTableMergeEngine, std::string, "table.merge-engine", kEnum, "",                          \
    "How a primary-key table merges an upsert into the stored row; unset: last row wins.",    \
    "FIRST_ROW,VERSIONED,AGGREGATION")                                                        \
  X(kTableMergeEngineVersionedVerColumn, std::string,                                         \
    "table.merge-engine.versioned.ver-column", kString, "",                                   \
    "Version column of the VERSIONED merge engine.", "")                                      \
  X(kTableDeleteBehavior, std::string, "table.delete.behavior", kEnum, "ALLOW",               \
    "What deletes on a primary-key table do.", "ALLOW,IGNORE,DISABLE")                        \
  X(kTableChangelogImage, std::string, "table.changelog.image", kEnum, "FULL",                \
    "FULL writes -U/+U pairs for updates; WAL writes only +U.", "FULL,WAL")                   \
  X(kTableAutoPartitionEnabled, bool, "table.auto-partition.enabled", kBool, "false",         \
    "Whether the server creates and drops time partitions by itself.", "")                    \
  X(kTableAutoPartitionKey, std::string, "table.auto-partition.key", kString, "",             \
    "Partition column used for automatic partitions when there are several.", "")             \
  X(kTableAutoPartitionTimeUnit, std::string, "table.auto-partition.time-unit", kEnum, "DAY", \
    "Granularity of automatic partitions.", "YEAR,QUARTER,MONTH,DAY,HOUR")                    \
  X(kTableAutoPartitionTimeZone, std::string, "table.auto-partition.time-zone", kString,      \
    "UTC", "Time zone in which automatic partition names are computed.", "")                  \
  X(kTableAutoPartitionNumPrecreate, int32_t, "table.auto-partition.num-precreate", kInt,     \
    "2", "Future partitions created ahead of time.", "")                                      \
  X(kTableAutoPartitionNumRetention, int32_t, "table.auto-partition.num-retention", kInt,     \
    "7", "Past partitions kept; older ones are dropped.", "")                                 \
  X(kTableDatalakeEnabled, bool, "table.datalake.enabled", kBool, "false",                    \
    "Whether the table is tiered into a data lake.", "")                                      \
  X(kTableDatalakeFormat, std::string, "table.datalake.format", kEnum, "",                    \
    "Data lake format; changes how clients encode keys and pick buckets.",                    \
    "paimon,iceberg,lance")                                                                   \
  X(kTableAutoIncrementCacheSize, int64_t, "table.auto-increment.cache-size", kLong,          \
    "100000", "Auto-increment ids a server reserves at a time.", "")

#define STROM_X(name, cpp_type, key, type, def, desc, enums) \
  extern const ConfigOption<cpp_type> name;
STROM_CONFIG_OPTIONS(STROM_X)
#undef STROM_X

}  // namespace strom::config
