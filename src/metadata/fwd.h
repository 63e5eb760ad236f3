#pragma once

// Forward declarations of the metadata component, for headers that only pass these types
// around.

namespace strom::metadata {

class EmbeddedMetadataStore;
class MetadataStore;
struct DatabaseInfo;
struct DatabaseRegistration;
struct ServerNode;
struct TableAssignment;
struct TableBucket;
struct TableInfo;
struct TablePath;
struct TableRegistration;

}  // namespace strom::metadata
