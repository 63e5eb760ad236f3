#pragma once

#include "common/async.h"
#include "common/ids.h"
#include "common/status.h"
#include "metadata/table_assignment.h"
#include "metadata/table_info.h"
#include "record/table_descriptor.h"

namespace strom::coordinator {

/// What the coordinator asks of the tablet servers when tables come and go (in Fluss: the
/// NotifyLeaderAndIsr and StopReplica requests of its channel manager). `strom-server local`
/// implements it directly on its ReplicaManager; a distributed coordinator will send RPCs.
/// Thread: called on the coordinator's reactor.
class BucketHost {
 public:
  virtual ~BucketHost() = default;

  /// Creates (or opens) the tablets of a new table's buckets assigned to the local servers
  /// and makes them leaders. Idempotent.
  virtual Task<Status> CreateTableBuckets(metadata::TableInfo table,
                                          metadata::TableAssignment assignment) = 0;

  /// Refuses a table whose tablets could not be opened (e.g. primary-key table options a KV
  /// tablet rejects), before the coordinator registers it. kInvalidConfig / kInvalidTable.
  virtual Status CheckTable(const record::TableDescriptor& table) = 0;

  /// Stops and deletes every tablet of a dropped table. Idempotent.
  virtual Task<Status> DropTableBuckets(TableId table_id) = 0;
};

}  // namespace strom::coordinator
