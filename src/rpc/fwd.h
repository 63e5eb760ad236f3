#pragma once

// Forward declarations of the rpc component, for headers that only pass these types around.

namespace strom::rpc {

class Connection;
class ConnectionPool;
class Dispatcher;
class Server;
struct ConnectionOptions;
struct RequestContext;
struct ServerOptions;

}  // namespace strom::rpc
