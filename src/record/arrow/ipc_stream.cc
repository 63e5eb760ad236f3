#include "record/arrow/ipc_stream.h"

#include "record/arrow/arrow_schema.h"
#include "record/arrow/ipc_internal.h"

namespace strom::record::arrow {

Result<std::vector<DecodedArrowBatch>> ReadIpcStream(ByteView stream, const DataType& row_type,
                                                     ArrowReadOptions options) {
  STROM_RETURN_IF_ERROR(CheckArrowCompatible(row_type));
  std::vector<uint64_t> scratch;
  STROM_ASSIGN_OR_RETURN(internal::ParsedMessage schema_message,
                         internal::ParseMessage(stream, &scratch));
  const fb::Schema* schema = schema_message.message->header_as_Schema();
  if (schema == nullptr) {
    return Corruption("an Arrow IPC stream must start with a Schema message, got header type {}",
                      static_cast<int>(schema_message.message->header_type()));
  }
  STROM_RETURN_IF_ERROR(internal::CheckSchemaMatches(*schema, row_type));

  std::vector<DecodedArrowBatch> batches;
  ArrowBatchReader reader(options);
  size_t pos = schema_message.total_size;
  while (pos < stream.size()) {
    ByteView rest = stream.substr(pos);
    STROM_ASSIGN_OR_RETURN(internal::MessagePrefix prefix, internal::ReadMessagePrefix(rest));
    if (prefix.end_of_stream) break;
    STROM_ASSIGN_OR_RETURN(DecodedArrowBatch batch, reader.Read(rest, row_type));
    pos += batch.message_size();
    batches.push_back(std::move(batch));
  }
  return batches;
}

Status WriteIpcStream(const DataType& row_type, std::span<const ByteBuffer> record_batches,
                      ByteBuffer* out) {
  STROM_RETURN_IF_ERROR(WriteSchemaMessage(row_type, out));
  for (const ByteBuffer& message : record_batches) out->append(message);
  WriteEndOfStream(out);
  return Status::OK();
}

}  // namespace strom::record::arrow
