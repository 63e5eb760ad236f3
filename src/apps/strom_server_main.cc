// strom-server: the Strom server process.
//   local        a whole single-node cluster (coordinator and tablet server on one port,
//                metadata in the data directory); with --tablet-servers N (N > 1) a
//                replicated cluster in one process: ZooKeeper, a coordinator, N tablet servers
//   coordinator  the coordinator of a distributed cluster on ZooKeeper (several may run: one
//                is active, the others stand by)
//   tablet       a tablet server of a distributed cluster

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include "common/async.h"
#include "common/config/config.h"
#include "common/logging.h"
#include "server/coordinator_server.h"
#include "server/local_cluster.h"
#include "server/local_server.h"
#include "server/tablet_server.h"

namespace {

using strom::Status;
using strom::Task;

/// Starts a server, prints its ready line, waits for SIGINT/SIGTERM, stops.
template <typename Server>
Task<void> Run(asio::io_context& io, Server& server, std::string role,
               std::function<std::string()> ready_line, int* exit_code) {
  asio::signal_set signals(io, SIGINT, SIGTERM);
  Status started = co_await server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "strom-server %s: cannot start: %s\n", role.c_str(),
                 started.ToString().c_str());
    *exit_code = 1;
    co_return;
  }
  std::printf("%s\n", ready_line().c_str());
  std::fflush(stdout);
  auto [ec, signal] = co_await signals.async_wait(strom::kAwaitTuple);
  if (!ec) STROM_LOG_INFO("server", "signal {} received, shutting down", signal);
  co_await server.Stop();
  *exit_code = 0;
}

template <typename Server>
int RunServer(Server& server, asio::io_context& io, std::string role,
              std::function<std::string()> ready_line) {
  int exit_code = 1;
  asio::co_spawn(io, Run(io, server, std::move(role), std::move(ready_line), &exit_code),
                 [&](std::exception_ptr e) {
                   if (e) {
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       std::fprintf(stderr, "strom-server: fatal: %s\n", ex.what());
                     }
                     exit_code = 1;
                     io.stop();
                   }
                 });
  io.run();
  return exit_code;
}

std::optional<strom::config::Configuration> LoadConfig(const std::string& path) {
  if (path.empty()) return strom::config::Configuration();
  auto conf = strom::config::Configuration::LoadFile(path);
  if (!conf.ok()) {
    std::fprintf(stderr, "strom-server: %s\n", conf.status().ToString().c_str());
    return std::nullopt;
  }
  return std::move(conf).value();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Strom: a C++ implementation of the Apache Fluss server"};
  app.require_subcommand(1);
  std::string config_path;
  std::optional<std::string> data_dir;
  std::optional<std::string> host;
  std::optional<uint16_t> port;
  std::optional<int32_t> id;
  int32_t tablet_servers = 1;
  std::string log_level = "info";

  CLI::App* local = app.add_subcommand(
      "local", "Run a single-node cluster (coordinator + tablet server) on one port");
  local->add_option("--config", config_path, "server.yaml with Fluss option names");
  local->add_option("--data-dir", data_dir, "data directory (overrides data.dir)");
  local->add_option("--host", host, "listen host (default 127.0.0.1, or bind.listeners)");
  local->add_option("--port", port, "listen port (default 9123; 0 picks a free port)");
  local->add_option("--tablet-servers", tablet_servers,
                    "tablet servers (default 1; more runs a replicated cluster in this process "
                    "with ZooKeeper, each server on its own port)")
      ->check(CLI::Range(1, 64));
  local->add_option("--log-level", log_level, "trace, debug, info, warn, error or off");

  CLI::App* coordinator = app.add_subcommand(
      "coordinator", "Run a coordinator of a distributed cluster (needs zookeeper.address)");
  coordinator->add_option("--config", config_path, "server.yaml with Fluss option names");
  coordinator->add_option("--host", host, "listen host (default 127.0.0.1, or bind.listeners)");
  coordinator->add_option("--port", port, "listen port (default 9123; 0 picks a free port)");
  coordinator->add_option("--log-level", log_level, "trace, debug, info, warn, error or off");

  CLI::App* tablet = app.add_subcommand(
      "tablet", "Run a tablet server of a distributed cluster (needs zookeeper.address)");
  tablet->add_option("--id", id, "tablet server id (overrides tablet-server.id)");
  tablet->add_option("--config", config_path, "server.yaml with Fluss option names");
  tablet->add_option("--data-dir", data_dir, "data directory (overrides data.dir)");
  tablet->add_option("--host", host, "listen host (default 127.0.0.1, or bind.listeners)");
  tablet->add_option("--port", port, "listen port (default: a free port)");
  tablet->add_option("--log-level", log_level, "trace, debug, info, warn, error or off");
  CLI11_PARSE(app, argc, argv);

  strom::SetLogLevel(log_level);
  std::optional<strom::config::Configuration> config = LoadConfig(config_path);
  if (!config) return 2;
  asio::io_context io(1);

  if (local->parsed() && tablet_servers > 1) {
    strom::server::LocalClusterOptions options;
    options.config = std::move(*config);
    options.data_dir = data_dir;
    options.host = host;
    options.port = port;
    options.tablet_servers = tablet_servers;
    strom::server::LocalCluster cluster(io, std::move(options));
    return RunServer(cluster, io, "local", [&cluster] {
      return fmt::format(
          "strom-server local ready on {} (coordinator; tablet servers {}; ZooKeeper {}; data dir "
          "{})",
          cluster.bootstrap(), fmt::join(cluster.tablet_server_addresses(), ", "),
          cluster.zookeeper_address(), cluster.data_dir());
    });
  }
  if (local->parsed()) {
    strom::server::LocalServerOptions options;
    options.config = std::move(*config);
    options.data_dir = data_dir;
    options.host = host;
    options.port = port;
    strom::server::LocalServer server(io, std::move(options));
    return RunServer(server, io, "local", [&server] {
      return fmt::format("strom-server local ready on {}:{} (data dir {})", server.host(),
                         server.port(), server.data_dir());
    });
  }
  if (coordinator->parsed()) {
    strom::server::CoordinatorServerOptions options;
    options.config = std::move(*config);
    options.host = host;
    options.port = port;
    strom::server::CoordinatorServer server(io, std::move(options));
    return RunServer(server, io, "coordinator", [&server] {
      return fmt::format("strom-server coordinator ready on {}:{}", server.host(), server.port());
    });
  }
  strom::server::TabletServerOptions options;
  options.config = std::move(*config);
  options.id = id;
  options.data_dir = data_dir;
  options.host = host;
  options.port = port;
  strom::server::TabletServer server(io, std::move(options));
  return RunServer(server, io, "tablet", [&server] {
    return fmt::format("strom-server tablet {} ready on {}:{} (data dir {})", server.id(),
                       server.host(), server.port(), server.data_dir());
  });
}
