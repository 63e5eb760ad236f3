#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>

#include "common/result.h"
#include "record/data_type.h"

namespace strom::record {

/// Fluss type JSON (`DataTypeJsonSerde`): the `data_type` / `field_type` objects inside schema
/// and table JSON, and the `data_type_json` of AlterTable.
///
/// Writing produces exactly what the Java server writes: compact (no whitespace), keys in
/// the order `type`, `nullable` (only when false), then the type's own keys (`length`;
/// `precision`, `scale`; `element_type`; `key_type`, `value_type`; `fields`). Parsing accepts
/// any key order and reports every malformed document as a Status (kInvalidTable), never
/// as an exception.

/// Appends the JSON of `type` to `out`.
void AppendTypeJson(const DataType& type, std::string* out);

/// The JSON of `type`, e.g. `{"type":"CHAR","nullable":false,"length":10}`.
std::string TypeToJson(const DataType& type);

/// Parses a type JSON document.
Result<DataType> TypeFromJson(std::string_view json);

/// Parses an already-parsed type JSON node (used by the schema and descriptor parsers).
/// `depth` is the nesting level of `node`; documents nested deeper than
/// kMaxTypeNestingDepth are rejected.
Result<DataType> TypeFromJsonNode(const nlohmann::ordered_json& node, int depth = 0);

/// Deepest ARRAY / MAP / ROW nesting the parser accepts.
inline constexpr int kMaxTypeNestingDepth = 64;

/// Appends `text` as a JSON string literal, escaped the way Jackson escapes it: `"` and `\`
/// with a backslash, \b \t \n \f \r by letter, other control bytes as \u00XX (upper-case
/// hex); every other byte, including UTF-8 sequences, is copied unchanged.
void AppendJsonString(std::string_view text, std::string* out);

}  // namespace strom::record
