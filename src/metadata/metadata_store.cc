#include "metadata/metadata_store.h"

namespace strom::metadata {

Task<Result<std::optional<TableInfo>>> LoadTableInfo(MetadataStore& store, TablePath path) {
  STROM_CO_ASSIGN_OR_RETURN(std::optional<TableRegistration> reg, co_await store.GetTable(path));
  if (!reg) co_return std::optional<TableInfo>();
  STROM_CO_ASSIGN_OR_RETURN(std::vector<SchemaId> ids, co_await store.ListSchemaIds(path));
  if (ids.empty()) co_return Corruption("table {} has no schema", path);
  SchemaId latest = ids.back();
  STROM_CO_ASSIGN_OR_RETURN(std::optional<record::Schema> schema,
                            co_await store.GetSchema(path, latest));
  if (!schema) co_return Corruption("table {} lost schema {}", path, latest);
  STROM_CO_ASSIGN_OR_RETURN(TableInfo info,
                            TableInfo::Make(path, *reg, latest, std::move(*schema)));
  co_return std::optional<TableInfo>(std::move(info));
}

}  // namespace strom::metadata
