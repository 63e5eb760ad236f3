#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/status.h"

namespace strom::proto {

/// A ProduceLogRequest read in place: the same fields as the generated
/// `proto::ProduceLogRequest`, but each bucket's `records` is a view into the request
/// payload instead of a copy. The produce path is the server's bulk input (megabytes per
/// request), and a generated message would copy every record byte once more out of the
/// frame; with the view the records are checked and written to the log straight from the
/// bytes the socket delivered.
///
/// Ownership: borrows the payload it was parsed from; the payload must outlive the view.
/// The records views are mutable because the leader stamps base offsets into the batch
/// headers in place before writing them.
struct ProduceLogRequestView {
  struct Bucket {
    std::optional<int64_t> partition_id;
    int32_t bucket_id = 0;
    std::span<char> records;
  };

  int32_t acks = 0;
  int64_t table_id = 0;
  int32_t timeout_ms = 0;
  std::vector<Bucket> buckets;
};

/// Parses a ProduceLogRequest payload with protobuf's proto2 rules for this message: fields
/// in any order, the last value of a repeated scalar occurrence wins, every
/// `buckets_req` occurrence adds a bucket, unknown fields (and known field numbers with an
/// unexpected wire type) are skipped, and a missing required field (acks, table_id,
/// timeout_ms; a bucket's bucket_id and records) fails. Errors are kCorruptMessage, worded
/// as proto::ParseMessage words them, so a client sees the same answer either way.
Status ParseProduceLogRequest(std::span<char> payload, ProduceLogRequestView* out);

}  // namespace strom::proto
