#include "strom/connection.h"

#include "client/client_context.h"

namespace strom {

Result<std::unique_ptr<Connection>> Connection::Create(const ClientConfig& config) {
  STROM_ASSIGN_OR_RETURN(auto context, client::ClientContext::Create(config));
  return std::unique_ptr<Connection>(new Connection(std::move(context)));
}

Connection::Connection(std::shared_ptr<client::ClientContext> context)
    : context_(std::move(context)) {}

Connection::~Connection() = default;

std::unique_ptr<Admin> Connection::GetAdmin() { return std::unique_ptr<Admin>(new Admin(context_)); }

Result<std::unique_ptr<Table>> Connection::GetTable(const TablePath& path) {
  client::ClientContext* context = context_.get();
  auto lookup = [](client::ClientContext* ctx, TablePath table) -> Task<Result<TableInfo>> {
    // Metadata first (table id and bucket leaders), then the table info, as Java does.
    STROM_CO_RETURN_IF_ERROR(co_await ctx->UpdateMetadata(client::OneTable(table)));
    co_return co_await ctx->FetchTableInfo(table);
  };
  STROM_ASSIGN_OR_RETURN(TableInfo info, context->RunSync(lookup(context, path)));
  return std::unique_ptr<Table>(new Table(context_, std::move(info)));
}

const ClientConfig& Connection::config() const { return context_->config(); }

std::vector<ServerNode> Connection::KnownServers() const {
  return context_->metadata().Get()->AllServers();
}

Table::Table(std::shared_ptr<client::ClientContext> context, TableInfo info)
    : context_(std::move(context)), info_(std::move(info)) {}

Table::~Table() = default;

}  // namespace strom
