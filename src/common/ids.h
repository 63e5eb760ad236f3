#pragma once

#include <cstdint>

#include "common/strong_type.h"

namespace strom {

/// Identifiers and positions that cross APIs. Widths follow the Fluss wire format.
using TableId = StrongInt<int64_t, struct TableIdTag>;
using PartitionId = StrongInt<int64_t, struct PartitionIdTag>;
using BucketId = StrongInt<int32_t, struct BucketIdTag>;
using SchemaId = StrongInt<int16_t, struct SchemaIdTag>;
using ServerId = StrongInt<int32_t, struct ServerIdTag>;
using LogOffset = StrongInt<int64_t, struct LogOffsetTag>;
using LeaderEpoch = StrongInt<int32_t, struct LeaderEpochTag>;
using BucketEpoch = StrongInt<int32_t, struct BucketEpochTag>;
using CoordinatorEpoch = StrongInt<int32_t, struct CoordinatorEpochTag>;
using WriterId = StrongInt<int64_t, struct WriterIdTag>;
using BatchSequence = StrongInt<int32_t, struct BatchSequenceTag>;
/// Milliseconds since the Unix epoch.
using TimestampMs = StrongInt<int64_t, struct TimestampMsTag>;

/// Sentinels that Fluss puts on the wire.
inline constexpr WriterId kNoWriterId{-1};
inline constexpr BatchSequence kNoBatchSequence{-1};
inline constexpr LeaderEpoch kNoLeaderEpoch{-1};
/// FetchLog offset meaning "from the log start offset".
inline constexpr LogOffset kEarliestOffset{-2};

}  // namespace strom
