#include "proto/produce_log_view.h"

#include <fmt/format.h>

#include <climits>
#include <string>

namespace strom::proto {

namespace {

constexpr std::string_view kTypeName = "strom.proto.ProduceLogRequest";

enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// Reads protobuf wire format from a span it does not own. Every method returns false on
// malformed input (truncated varint or field, bad wire type) and never reads out of bounds.
class WireReader {
 public:
  explicit WireReader(std::span<char> bytes) : bytes_(bytes) {}

  bool done() const { return pos_ == bytes_.size(); }

  bool Varint(uint64_t* value) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ == bytes_.size()) return false;
      const auto byte = static_cast<uint8_t>(bytes_[pos_++]);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *value = result;
        return true;
      }
    }
    return false;  // more than 10 bytes
  }

  bool Tag(uint32_t* field, uint32_t* wire_type) {
    uint64_t tag = 0;
    if (!Varint(&tag) || tag > UINT32_MAX) return false;
    *field = static_cast<uint32_t>(tag >> 3);
    *wire_type = static_cast<uint32_t>(tag & 7);
    return *field != 0;
  }

  bool LengthDelimited(std::span<char>* out) {
    uint64_t length = 0;
    if (!Varint(&length) || length > bytes_.size() - pos_) return false;
    *out = bytes_.subspan(pos_, static_cast<size_t>(length));
    pos_ += static_cast<size_t>(length);
    return true;
  }

  bool Skip(size_t n) {
    if (n > bytes_.size() - pos_) return false;
    pos_ += n;
    return true;
  }

  // Skips the value of a field of `wire_type` whose tag was just read (`field` names the
  // group a start-group tag opens).
  bool SkipField(uint32_t field, uint32_t wire_type, int depth = 0) {
    uint64_t ignored = 0;
    std::span<char> ignored_bytes;
    switch (wire_type) {
      case kVarint: return Varint(&ignored);
      case kFixed64: return Skip(8);
      case kLengthDelimited: return LengthDelimited(&ignored_bytes);
      case kFixed32: return Skip(4);
      case kStartGroup: {
        if (depth >= 100) return false;  // protobuf's default recursion limit
        for (;;) {
          uint32_t inner = 0;
          uint32_t inner_type = 0;
          if (!Tag(&inner, &inner_type)) return false;
          if (inner_type == kEndGroup) return inner == field;
          if (!SkipField(inner, inner_type, depth + 1)) return false;
        }
      }
      default: return false;  // an end-group tag outside its group, or wire types 6 and 7
    }
  }

 private:
  std::span<char> bytes_;
  size_t pos_ = 0;
};

bool ParseBucket(std::span<char> bytes, ProduceLogRequestView::Bucket* bucket, bool* has_bucket_id,
                 bool* has_records) {
  WireReader reader(bytes);
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
  WireReader reader(payload);
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
