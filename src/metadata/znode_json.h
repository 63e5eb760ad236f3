#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "metadata/database_info.h"
#include "metadata/table_assignment.h"
#include "metadata/table_info.h"

/// JSON of the coordination nodes, in the formats Fluss 0.9.1 keeps in ZooKeeper
/// (fluss-formats §7.3). The embedded store writes the same documents into its snapshot, so
/// both MetadataStore implementations share one logical model and one serialisation.
///
/// Writers produce compact JSON with Fluss's key order. Readers accept any key order and
/// return kCorruptMessage (never throw) for a malformed document.
namespace strom::metadata {

/// `{"version":1[,"comment":..],"custom_properties":{..},"created_time":..,"modified_time":..}`
std::string DatabaseRegistrationToJson(const DatabaseRegistration& reg);
Result<DatabaseRegistration> DatabaseRegistrationFromJson(std::string_view json);

/// `{"version":1,"table_id":..[,"comment":..][,"partition_key":[..]][,"bucket_key":[..]],
/// "bucket_count":..,"properties":{..},"custom_properties":{..},"created_time":..,
/// "modified_time":..}`. (Fluss writes created_time into modified_time; Strom writes the real
/// modified time, which equals the created time until tables can be altered.)
std::string TableRegistrationToJson(const TableRegistration& reg);
Result<TableRegistration> TableRegistrationFromJson(std::string_view json);

/// `{"version":1,"buckets":{"0":[1,4,5],"1":[2,3]}}`
std::string TableAssignmentToJson(const TableAssignment& assignment);
Result<TableAssignment> TableAssignmentFromJson(std::string_view json);

}  // namespace strom::metadata
