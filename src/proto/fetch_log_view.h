#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/status.h"
#include "proto/FlussApi.pb.h"

// FetchLog is the bulk output of a tablet server: megabytes of stored records per response.
// These two functions let both ends handle its `records` fields without copying them: the
// server encodes the protobuf envelope around records that stay in their segment files
// (sent with sendfile), and the client reads records as views into the received frame.

namespace strom::proto {

/// Records of one bucket of a FetchLogResponse that are not in the message: the bucket is
/// `tables_resp(table_index).buckets_resp(bucket_index)`, its records are `size` bytes.
struct ExternalRecords {
  size_t table_index = 0;
  size_t bucket_index = 0;
  size_t size = 0;
};

/// Encodes `response` byte for byte as protobuf's serializer would if each bucket named in
/// `external` had `records` set to its `size` external bytes, but without those bytes:
/// returns external.size() + 1 runs of bytes, such that run[0] + records[0] + run[1] + ...
/// + records[n-1] + run[n] is the encoding. `records` is field 8, the last field of
/// PbFetchLogRespForBucket, so each bucket's external records end its encoding.
///
/// `external` must name distinct buckets in message order, whose `records` is unset.
/// Errors (kUnknownServerError, a bug in the caller): a missing required field, an entry
/// out of range, out of order or naming a bucket that has records, or an encoding over 2 GiB.
Result<std::vector<ByteBuffer>> EncodeFetchLogResponseAround(
    const FetchLogResponse& response, std::span<const ExternalRecords> external);

/// A FetchLogResponse read in place: the fields of the generated message, each bucket's
/// `records` (and error message) a view into the parsed payload.
///
/// Ownership: borrows the payload it was parsed from; the payload must outlive the view.
struct FetchLogResponseView {
  struct Bucket {
    std::optional<int64_t> partition_id;
    int32_t bucket_id = 0;
    std::optional<int32_t> error_code;
    std::optional<ByteView> error_message;
    std::optional<int64_t> high_watermark;
    std::optional<int64_t> log_start_offset;
    /// The encoded PbRemoteLogFetchInfo, when present (not decoded here; of a field sent
    /// twice, which protobuf would merge, the last).
    std::optional<ByteView> remote_log_fetch_info;
    std::optional<ByteView> records;
  };
  struct Table {
    int64_t table_id = 0;
    std::vector<Bucket> buckets;
  };
  std::vector<Table> tables;
};

/// Parses a FetchLogResponse payload with protobuf's proto2 rules: fields in any order, the
/// last occurrence of a scalar wins, every `tables_resp` / `buckets_resp` occurrence adds an
/// entry, unknown fields (and known field numbers with an unexpected wire type) are skipped,
/// a missing required field (`table_id`, `bucket_id`, or one inside an embedded
/// `remote_log_fetch_info`, which is checked with the generated message) fails. Errors are
/// kCorruptMessage, worded as proto::ParseMessage words them; `out` is then empty. Never
/// reads outside `payload`.
Status ParseFetchLogResponse(ByteView payload, FetchLogResponseView* out);

}  // namespace strom::proto
