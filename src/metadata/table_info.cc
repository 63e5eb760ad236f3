#include "metadata/table_info.h"

#include <strings.h>

namespace strom::metadata {

TableRegistration TableRegistration::ForNewTable(TableId table_id,
                                                 const record::TableDescriptor& table,
                                                 TimestampMs now) {
  TableRegistration reg;
  reg.table_id = table_id;
  reg.comment = table.comment();
  reg.partition_keys = table.partition_keys();
  reg.bucket_keys = table.bucket_keys();
  reg.bucket_count = table.bucket_count().value_or(0);
  reg.properties = table.properties();
  reg.custom_properties = table.custom_properties();
  reg.created_time = now;
  reg.modified_time = now;
  return reg;
}

Result<TableInfo> TableInfo::Make(TablePath path, const TableRegistration& registration,
                                  SchemaId schema_id, record::Schema schema) {
  record::TableDescriptor::Parts parts;
  parts.schema = std::move(schema);
  parts.comment = registration.comment;
  parts.partition_keys = registration.partition_keys;
  parts.distribution =
      record::TableDistribution{registration.bucket_count, registration.bucket_keys};
  parts.properties = registration.properties;
  parts.custom_properties = registration.custom_properties;
  auto descriptor = record::TableDescriptor::Make(std::move(parts));
  if (!descriptor.ok()) {
    return descriptor.status().WithContext(fmt::format("stored table {}", path));
  }
  return TableInfo{std::move(path),
                   registration.table_id,
                   schema_id,
                   std::move(descriptor).value(),
                   registration.created_time,
                   registration.modified_time};
}

LogFormat TableInfo::log_format() const {
  const std::string* format = descriptor.Property("table.log.format");
  if (format == nullptr) return LogFormat::kArrow;
  if (strcasecmp(format->c_str(), "INDEXED") == 0) return LogFormat::kIndexed;
  if (strcasecmp(format->c_str(), "COMPACTED") == 0) return LogFormat::kCompacted;
  return LogFormat::kArrow;
}

}  // namespace strom::metadata
