#include "log/log_config.h"

#include "common/config/options.h"
#include "record/log_record_batch.h"

namespace strom::log {

Result<LogConfig> LogConfig::FromConfiguration(const config::Configuration& conf) {
  LogConfig c;
  c.segment_file_size = conf.Get(config::kLogSegmentFileSize);
  c.index_file_size = conf.Get(config::kLogIndexFileSize);
  c.index_interval_size = conf.Get(config::kLogIndexIntervalSize);
  c.file_preallocate = conf.Get(config::kLogFilePreallocate);
  c.flush_interval_messages = conf.Get(config::kLogFlushIntervalMessages);
  c.writer_id_expiration_time = conf.Get(config::kWriterIdExpirationTime);
  c.writer_id_expiration_check_interval = conf.Get(config::kWriterIdExpirationCheckInterval);
  c.ttl = conf.Get(config::kTableLogTtl);
  c.segment_roll_time = conf.Get(config::kLogSegmentRollTime);
  if (conf.GetRaw(config::kTableLogRetentionSize.key()).value_or("").empty()) {
    c.retention_bytes = -1;
  } else {
    c.retention_bytes = conf.Get(config::kTableLogRetentionSize);
  }
  STROM_RETURN_IF_ERROR(c.Validate());
  return c;
}

Status LogConfig::Validate() const {
  if (segment_file_size < static_cast<int64_t>(record::kLogHeaderSizeV1) ||
      segment_file_size > std::numeric_limits<int32_t>::max()) {
    return MakeError(
        ErrorCode::kInvalidConfig, "log.segment.file-size must be between {} and {} bytes, got {}",
        record::kLogHeaderSizeV1, std::numeric_limits<int32_t>::max(), segment_file_size);
  }
  // Room for at least two time index entries (12 bytes each): the time index counts as
  // full one entry early.
  if (index_file_size < 24 || index_file_size > std::numeric_limits<int32_t>::max()) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "log.index.file-size must be between 24 and {} bytes, got {}",
                     std::numeric_limits<int32_t>::max(), index_file_size);
  }
  if (index_interval_size < 0) {
    return MakeError(ErrorCode::kInvalidConfig, "log.index.interval-size must not be negative");
  }
  if (flush_interval_messages < 1) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "log.flush.interval-messages must be at least 1, got {}",
                     flush_interval_messages);
  }
  if (writer_id_expiration_time.count() <= 0) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "server.writer-id.expiration-time must be positive");
  }
  return Status::OK();
}

}  // namespace strom::log
