#include "proto/fetch_log_view.h"

#include <fmt/format.h>

#include <climits>
#include <string>

#include "proto/wire_reader.h"

#include "proto/messages.h"

namespace strom::proto {

namespace {

constexpr std::string_view kTypeName = "strom.proto.FetchLogResponse";

// Tags (field number << 3 | wire type) of the fields written here.
constexpr uint8_t kTablesRespTag = (1 << 3) | 2;   // FetchLogResponse.tables_resp
constexpr uint8_t kTableIdTag = (1 << 3) | 0;      // PbFetchLogRespForTable.table_id
constexpr uint8_t kBucketsRespTag = (2 << 3) | 2;  // PbFetchLogRespForTable.buckets_resp
constexpr uint8_t kRecordsTag = (8 << 3) | 2;      // PbFetchLogRespForBucket.records

Status EncodeBug(std::string_view what) {
  return MakeError(ErrorCode::kUnknownServerError, "cannot encode {}: {}", kTypeName, what);
}

using Reader = wire::WireReader<ByteView>;
using namespace wire;  // the wire types

int32_t AsInt32(uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }

// `remote_incomplete` is set when an embedded PbRemoteLogFetchInfo lacks a required field.
bool ParseBucket(ByteView bytes, FetchLogResponseView::Bucket* bucket, bool* has_bucket_id,
                 bool* remote_incomplete) {
  Reader reader(bytes);
  while (!reader.done()) {
    uint32_t field = 0;
    uint32_t wire_type = 0;
    if (!reader.Tag(&field, &wire_type)) return false;
    uint64_t value = 0;
    ByteView view;
    if (wire_type == kVarint && field >= 1 && field <= 6 && field != 4) {
      if (!reader.Varint(&value)) return false;
      switch (field) {
        case 1: bucket->partition_id = static_cast<int64_t>(value); break;
        case 2:
          bucket->bucket_id = AsInt32(value);
          *has_bucket_id = true;
          break;
        case 3: bucket->error_code = AsInt32(value); break;
        case 5: bucket->high_watermark = static_cast<int64_t>(value); break;
        case 6: bucket->log_start_offset = static_cast<int64_t>(value); break;
        default: break;
      }
    } else if (wire_type == kLengthDelimited && (field == 4 || field == 7 || field == 8)) {
      if (!reader.LengthDelimited(&view)) return false;
      if (field == 4) bucket->error_message = view;
      if (field == 7) {
        // Rare (tiered segments): checked with the generated message, as protobuf would
        // parse it; the view keeps the last occurrence's bytes.
        PbRemoteLogFetchInfo info;
        if (!info.ParsePartialFromArray(view.data(), static_cast<int>(view.size()))) return false;
        if (!info.IsInitialized()) *remote_incomplete = true;
        bucket->remote_log_fetch_info = view;
      }
      if (field == 8) bucket->records = view;
    } else if (!reader.SkipField(field, wire_type)) {
      return false;
    }
  }
  return true;
}

bool ParseTable(ByteView bytes, FetchLogResponseView::Table* table, bool* has_table_id,
                std::vector<std::string>* missing, size_t table_index) {
  Reader reader(bytes);
  while (!reader.done()) {
    uint32_t field = 0;
    uint32_t wire_type = 0;
    if (!reader.Tag(&field, &wire_type)) return false;
    if (field == 1 && wire_type == kVarint) {
      uint64_t value = 0;
      if (!reader.Varint(&value)) return false;
      table->table_id = static_cast<int64_t>(value);
      *has_table_id = true;
    } else if (field == 2 && wire_type == kLengthDelimited) {
      ByteView view;
      if (!reader.LengthDelimited(&view)) return false;
      bool has_bucket_id = false;
      bool remote_incomplete = false;
      FetchLogResponseView::Bucket& bucket = table->buckets.emplace_back();
      if (!ParseBucket(view, &bucket, &has_bucket_id, &remote_incomplete)) return false;
      if (!has_bucket_id) {
        missing->push_back(fmt::format("tables_resp[{}].buckets_resp[{}].bucket_id", table_index,
                                       table->buckets.size() - 1));
      }
      if (remote_incomplete) {
        missing->push_back(fmt::format("tables_resp[{}].buckets_resp[{}].remote_log_fetch_info",
                                       table_index, table->buckets.size() - 1));
      }
    } else if (!reader.SkipField(field, wire_type)) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<std::vector<ByteBuffer>> EncodeFetchLogResponseAround(
    const FetchLogResponse& response, std::span<const ExternalRecords> external) {
  if (!response.IsInitialized()) {
    return EncodeBug(
        fmt::format("missing required fields: {}", response.InitializationErrorString()));
  }
  // Check `external` against the message first: in order, in range, records unset.
  for (size_t i = 0; i < external.size(); ++i) {
    const ExternalRecords& e = external[i];
    if (e.table_index >= static_cast<size_t>(response.tables_resp_size()) ||
        e.bucket_index >=
            static_cast<size_t>(response.tables_resp(static_cast<int>(e.table_index))
                                    .buckets_resp_size())) {
      return EncodeBug(fmt::format("external records {} name no bucket", i));
    }
    if (i > 0 && std::make_pair(e.table_index, e.bucket_index) <=
                     std::make_pair(external[i - 1].table_index, external[i - 1].bucket_index)) {
      return EncodeBug(fmt::format("external records {} are out of message order", i));
    }
    if (response.tables_resp(static_cast<int>(e.table_index))
            .buckets_resp(static_cast<int>(e.bucket_index))
            .has_records()) {
      return EncodeBug(fmt::format("bucket of external records {} has records of its own", i));
    }
  }

  // Sizes, innermost first: each bucket as protobuf encodes it (records left out), plus its
  // external records field.
  std::vector<size_t> bucket_sizes;  // encoded size of every bucket, external records included
  std::vector<size_t> inner_sizes;   // ByteSizeLong() of every bucket (caches the sizes)
  std::vector<size_t> table_sizes;
  size_t total = 0;
  size_t next = 0;
  for (int t = 0; t < response.tables_resp_size(); ++t) {
    const PbFetchLogRespForTable& table = response.tables_resp(t);
    size_t table_size = 1 + static_cast<size_t>(VarintSize64(static_cast<uint64_t>(table.table_id())));
    for (int b = 0; b < table.buckets_resp_size(); ++b) {
      size_t inner = table.buckets_resp(b).ByteSizeLong();
      size_t size = inner;
      if (next < external.size() && external[next].table_index == static_cast<size_t>(t) &&
          external[next].bucket_index == static_cast<size_t>(b)) {
        const size_t records = external[next].size;
        size += 1 + static_cast<size_t>(VarintSize64(records)) + records;
        ++next;
      }
      if (size > static_cast<size_t>(INT_MAX)) return EncodeBug("a bucket exceeds 2 GiB");
      inner_sizes.push_back(inner);
      bucket_sizes.push_back(size);
      table_size += 1 + static_cast<size_t>(VarintSize64(size)) + size;
    }
    if (table_size > static_cast<size_t>(INT_MAX)) return EncodeBug("a table exceeds 2 GiB");
    table_sizes.push_back(table_size);
    total += 1 + static_cast<size_t>(VarintSize64(table_size)) + table_size;
  }
  if (total > static_cast<size_t>(INT_MAX)) {
    return MakeError(ErrorCode::kRecordTooLarge, "{} of {} bytes exceeds 2 GiB", kTypeName, total);
  }

  std::vector<ByteBuffer> runs;
  runs.reserve(external.size() + 1);  // writers below hold pointers into it
  runs.emplace_back();
  size_t bucket_number = 0;
  next = 0;
  for (int t = 0; t < response.tables_resp_size(); ++t) {
    const PbFetchLogRespForTable& table = response.tables_resp(t);
    ByteWriter writer(&runs.back());
    writer.U8(kTablesRespTag);
    writer.Varint64(table_sizes[static_cast<size_t>(t)]);
    writer.U8(kTableIdTag);
    writer.Varint64(static_cast<uint64_t>(table.table_id()));
    for (int b = 0; b < table.buckets_resp_size(); ++b, ++bucket_number) {
      ByteWriter bucket_writer(&runs.back());
      bucket_writer.U8(kBucketsRespTag);
      bucket_writer.Varint64(bucket_sizes[bucket_number]);
      detail::AppendWithCachedSize(table.buckets_resp(b), inner_sizes[bucket_number],
                                   &runs.back());
      if (next < external.size() && external[next].table_index == static_cast<size_t>(t) &&
          external[next].bucket_index == static_cast<size_t>(b)) {
        bucket_writer.U8(kRecordsTag);
        bucket_writer.Varint64(external[next].size);
        runs.emplace_back();
        ++next;
      }
    }
  }
  return runs;
}

Status ParseFetchLogResponse(ByteView payload, FetchLogResponseView* out) {
  *out = FetchLogResponseView();
  if (payload.size() > static_cast<size_t>(INT_MAX)) {
    return Corruption("{} payload of {} bytes exceeds the protobuf limit of 2 GiB", kTypeName,
                      payload.size());
  }
  std::vector<std::string> missing;
  Reader reader(payload);
  bool valid = true;
  while (valid && !reader.done()) {
    uint32_t field = 0;
    uint32_t wire_type = 0;
    if (!reader.Tag(&field, &wire_type)) {
      valid = false;
    } else if (field == 1 && wire_type == kLengthDelimited) {
      ByteView view;
      bool has_table_id = false;
      FetchLogResponseView::Table& table = out->tables.emplace_back();
      valid = reader.LengthDelimited(&view) &&
              ParseTable(view, &table, &has_table_id, &missing, out->tables.size() - 1);
      if (valid && !has_table_id) {
        missing.push_back(fmt::format("tables_resp[{}].table_id", out->tables.size() - 1));
      }
    } else {
      valid = reader.SkipField(field, wire_type);
    }
  }
  if (!valid) {
    *out = FetchLogResponseView();
    return Corruption("{} payload of {} bytes is not valid protobuf", kTypeName, payload.size());
  }
  if (!missing.empty()) {
    *out = FetchLogResponseView();
    return Corruption("{} is missing required fields: {}", kTypeName, fmt::join(missing, ", "));
  }
  return Status::OK();
}

}  // namespace strom::proto
