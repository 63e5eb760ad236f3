#pragma once

// The Strom C++ client: everything a program needs to talk to a Fluss or Strom cluster.
//
//   strom::ClientConfig config;
//   config.bootstrap_servers = "127.0.0.1:9123";
//   auto conn = strom::Connection::Create(config);          // Result<unique_ptr<Connection>>
//   auto admin = (*conn)->GetAdmin();
//   auto schema = strom::Schema::Builder()
//                     .AddColumn("id", strom::DataType::Int())
//                     .AddColumn("name", strom::DataType::String())
//                     .Build();
//   ...
//   auto table = (*conn)->GetTable({"fluss", "events"});
//   auto writer = (*table)->NewAppend().CreateWriter();
//   (*writer)->Append({int32_t{1}, std::string("a")});
//   (*writer)->Flush();
//   auto scanner = (*table)->NewScan().ProjectByName({"name"}).CreateLogScanner();
//   (*scanner)->SubscribeAll(strom::OffsetSpec::Earliest());
//   auto records = (*scanner)->Poll(std::chrono::seconds(1));

#include "strom/admin.h"          // IWYU pragma: export
#include "strom/append_writer.h"  // IWYU pragma: export
#include "strom/config.h"         // IWYU pragma: export
#include "strom/connection.h"     // IWYU pragma: export
#include "strom/log_scanner.h"    // IWYU pragma: export
#include "strom/lookuper.h"       // IWYU pragma: export
#include "strom/status.h"         // IWYU pragma: export
#include "strom/table.h"          // IWYU pragma: export
#include "strom/types.h"          // IWYU pragma: export
#include "strom/upsert_writer.h"  // IWYU pragma: export
