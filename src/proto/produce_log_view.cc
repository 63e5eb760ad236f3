#include "proto/produce_log_view.h"

#include <fmt/format.h>

#include <climits>
#include <string>

#include "proto/wire_reader.h"

namespace strom::proto {

namespace {

constexpr std::string_view kTypeName = "strom.proto.ProduceLogRequest";

using Reader = wire::WireReader<std::span<char>>;
using namespace wire;  // the wire types

bool ParseBucket(std::span<char> bytes, ProduceLogRequestView::Bucket* bucket, bool* has_bucket_id,
                 bool* has_records) {
  Reader reader(bytes);
  while (!reader.done()) {
    uint32_t field = 0;
    uint32_t wire_type = 0;
    if (!reader.Tag(&field, &wire_type)) return false;
    uint64_t value = 0;
    if (field == 1 && wire_type == kVarint) {
      if (!reader.Varint(&value)) return false;
      bucket->partition_id = static_cast<int64_t>(value);
    } else if (field == 2 && wire_type == kVarint) {
      if (!reader.Varint(&value)) return false;
      bucket->bucket_id = static_cast<int32_t>(static_cast<uint32_t>(value));
      *has_bucket_id = true;
    } else if (field == 3 && wire_type == kLengthDelimited) {
      if (!reader.LengthDelimited(&bucket->records)) return false;
      *has_records = true;
    } else if (!reader.SkipField(field, wire_type)) {
      return false;
    }
  }
  return true;
}

}  // namespace

Status ParseProduceLogRequest(std::span<char> payload, ProduceLogRequestView* out) {
  *out = ProduceLogRequestView();
  if (payload.size() > static_cast<size_t>(INT_MAX)) {
    return Corruption("{} payload of {} bytes exceeds the protobuf limit of 2 GiB", kTypeName,
                      payload.size());
  }
  bool has_acks = false;
  bool has_table_id = false;
  bool has_timeout = false;
  std::vector<std::pair<bool, bool>> bucket_fields;  // has bucket_id, has records
  Reader reader(payload);
  bool valid = true;
  while (valid && !reader.done()) {
    uint32_t field = 0;
    uint32_t wire_type = 0;
    if (!reader.Tag(&field, &wire_type)) {
      valid = false;
      break;
    }
    uint64_t value = 0;
    if (field == 1 && wire_type == kVarint) {
      valid = reader.Varint(&value);
      out->acks = static_cast<int32_t>(static_cast<uint32_t>(value));
      has_acks = true;
    } else if (field == 2 && wire_type == kVarint) {
      valid = reader.Varint(&value);
      out->table_id = static_cast<int64_t>(value);
      has_table_id = true;
    } else if (field == 3 && wire_type == kVarint) {
      valid = reader.Varint(&value);
      out->timeout_ms = static_cast<int32_t>(static_cast<uint32_t>(value));
      has_timeout = true;
    } else if (field == 4 && wire_type == kLengthDelimited) {
      std::span<char> bytes;
      bool has_bucket_id = false;
      bool has_records = false;
      ProduceLogRequestView::Bucket& bucket = out->buckets.emplace_back();
      valid = reader.LengthDelimited(&bytes) &&
              ParseBucket(bytes, &bucket, &has_bucket_id, &has_records);
      bucket_fields.emplace_back(has_bucket_id, has_records);
    } else {
      valid = reader.SkipField(field, wire_type);
    }
  }
  if (!valid) {
    *out = ProduceLogRequestView();
    return Corruption("{} payload of {} bytes is not valid protobuf", kTypeName, payload.size());
  }
  std::vector<std::string> missing;
  if (!has_acks) missing.emplace_back("acks");
  if (!has_table_id) missing.emplace_back("table_id");
  if (!has_timeout) missing.emplace_back("timeout_ms");
  for (size_t i = 0; i < bucket_fields.size(); ++i) {
    if (!bucket_fields[i].first) missing.push_back(fmt::format("buckets_req[{}].bucket_id", i));
    if (!bucket_fields[i].second) missing.push_back(fmt::format("buckets_req[{}].records", i));
  }
  if (!missing.empty()) {
    *out = ProduceLogRequestView();
    return Corruption("{} is missing required fields: {}", kTypeName, fmt::join(missing, ", "));
  }
  return Status::OK();
}

}  // namespace strom::proto
