#pragma once

#include <string>

#include "common/ids.h"
#include "record/table_descriptor.h"

namespace strom::metadata {

/// A database as stored: the data of znode `/metadata/databases/{db}`
/// (`{"version":1,"comment":..,"custom_properties":{..},"created_time":..,"modified_time":..}`).
struct DatabaseRegistration {
  record::DatabaseDescriptor descriptor;
  TimestampMs created_time{0};
  TimestampMs modified_time{0};

  friend bool operator==(const DatabaseRegistration&, const DatabaseRegistration&) = default;
};

/// A database with its name, as the DDL handlers answer it (Fluss `DatabaseInfo`).
struct DatabaseInfo {
  std::string name;
  DatabaseRegistration registration;
};

}  // namespace strom::metadata
