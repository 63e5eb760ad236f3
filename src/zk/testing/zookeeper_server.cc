#include "zk/testing/zookeeper_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/status.h"

namespace strom::zk::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kClassPath = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar";

/// A loopback port nobody listens on now (the kernel's pick for port 0).
uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    socklen_t len = sizeof(addr);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
  }
  ::close(fd);
  return port;
}

std::string ReadTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), {});
  return all.size() > max_bytes ? all.substr(all.size() - max_bytes) : all;
}

}  // namespace

ZooKeeperServer::ZooKeeperServer(Options options, std::string dir, uint16_t port)
    : options_(options), dir_(std::move(dir)), port_(port) {}

Result<std::unique_ptr<ZooKeeperServer>> ZooKeeperServer::Start(Options options) {
  if (!fs::exists("/usr/share/java/zookeeper.jar")) {
    return MakeError(ErrorCode::kUnknownServerError,
                     "Debian package zookeeper is not installed (scripts/install-deps.sh)");
  }
  std::string tmpl = (fs::temp_directory_path() / "strom-zk-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return MakeError(ErrorCode::kUnknownServerError, "mkdtemp failed");
  }
  // A port taken between FreePort() and the server's bind makes the start fail: try again.
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    uint16_t port = FreePort();
    if (port == 0) continue;
    std::unique_ptr<ZooKeeperServer> server(new ZooKeeperServer(options, tmpl, port));
    last = server->Launch();
    if (last.ok()) return server;
    server->Kill();
    server->dir_.clear();  // keep the directory for the next attempt
  }
  fs::remove_all(tmpl);
  return last;
}

ZooKeeperServer::~ZooKeeperServer() {
  Kill();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string ZooKeeperServer::address() const { return "127.0.0.1:" + std::to_string(port_); }

Status ZooKeeperServer::Launch() {
  fs::create_directories(dir_ + "/data");
  const std::string config = dir_ + "/zoo.cfg";
  {
    std::ofstream out(config, std::ios::trunc);
    out << "tickTime=" << options_.tick.count() << "\n"
        << "dataDir=" << dir_ << "/data\n"
        << "clientPortAddress=127.0.0.1\n"
        << "clientPort=" << port_ << "\n"
        << "maxClientCnxns=0\n"
        << "admin.enableServer=false\n"
        << "4lw.commands.whitelist=srvr,ruok,cons,stat\n";
  }
  const std::string log = dir_ + "/zookeeper.log";
  pid_t pid = ::fork();
  if (pid < 0) return MakeError(ErrorCode::kUnknownServerError, "fork failed");
  if (pid == 0) {
    ::setsid();  // own process group: Kill() reaches the JVM's children too
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::execlp("java", "java", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
             "-Xshare:auto", "-Dzookeeper.jmx.log4j.disable=true",
             "-Dzookeeper.admin.enableServer=false", "-cp", kClassPath,
             "org.apache.zookeeper.server.ZooKeeperServerMain", config.c_str(),
             static_cast<char*>(nullptr));
    ::_exit(127);
  }
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return MakeError(ErrorCode::kUnknownServerError, "ZooKeeper exited during start: {}",
                       ReadTail(log, 2000));
    }
    if (FourLetterCommand("srvr").find("Mode:") != std::string::npos) return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return MakeError(ErrorCode::kUnknownServerError, "ZooKeeper did not answer on {} in time: {}",
                   address(), ReadTail(log, 2000));
}

std::string ZooKeeperServer::FourLetterCommand(const std::string& command) const {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port_);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::send(fd, command.data(), command.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(command.size())) {
    char buf[1024];
    while (true) {
      pollfd pfd{fd, POLLIN, 0};
      if (::poll(&pfd, 1, 2000) <= 0) break;
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      answer.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return answer;
}

void ZooKeeperServer::Terminate(int signal) {
  if (pid_ <= 0) return;
  ::kill(-pid_, signal);
  ::kill(pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void ZooKeeperServer::Stop() { Terminate(SIGTERM); }
void ZooKeeperServer::Kill() { Terminate(SIGKILL); }

Status ZooKeeperServer::Restart() {
  if (pid_ > 0) Stop();
  return Launch();
}

}  // namespace strom::zk::testing

#include <zookeeper/zookeeper.h>

#include <atomic>
#include <cstring>

namespace strom::zk::testing {
namespace {
std::atomic<int> g_expire_state{0};
void ExpireWatcher(zhandle_t*, int type, int state, const char*, void*) {
  if (type == ZOO_SESSION_EVENT) g_expire_state.store(state);
}
void QuietLog(const char*) {}

bool WaitForState(int state, std::chrono::seconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (g_expire_state.load() != state && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return g_expire_state.load() == state;
}

}  // namespace

Status ExpireSession(const std::string& address, int64_t session_id,
                     const std::string& password) {
  // The close of an attached handle can lose a race with the owner reconnecting (the session
  // moves back to the owner and the close is refused). So the attached handle leaves an
  // ephemeral marker, and the session counts as ended only once a third, independent handle
  // sees the marker gone.
  for (int attempt = 0; attempt < 5; ++attempt) {
    clientid_t id{};
    id.client_id = session_id;
    std::memcpy(id.passwd, password.data(), std::min(password.size(), sizeof(id.passwd)));
    g_expire_state.store(0);
    zhandle_t* zh =
        zookeeper_init2(address.c_str(), &ExpireWatcher, 10000, &id, nullptr, 0, &QuietLog);
    if (zh == nullptr) return MakeError(ErrorCode::kNetwork, "zookeeper_init failed");
    if (!WaitForState(ZOO_CONNECTED_STATE, std::chrono::seconds(20))) {
      zookeeper_close(zh);
      continue;
    }
    const std::string marker =
        "/strom-expire-" + std::to_string(session_id) + "-" + std::to_string(attempt);
    int rc = zoo_create(zh, marker.c_str(), "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, nullptr,
                        0);
    zookeeper_close(zh);  // closing the shared session ends it for its owner too
    if (rc != ZOK) continue;

    g_expire_state.store(0);
    zhandle_t* observer =
        zookeeper_init2(address.c_str(), &ExpireWatcher, 10000, nullptr, nullptr, 0, &QuietLog);
    if (observer == nullptr) return MakeError(ErrorCode::kNetwork, "zookeeper_init failed");
    bool gone = false;
    if (WaitForState(ZOO_CONNECTED_STATE, std::chrono::seconds(20))) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!gone && std::chrono::steady_clock::now() < deadline) {
        struct Stat stat;
        gone = zoo_exists(observer, marker.c_str(), 0, &stat) == ZNONODE;
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    zookeeper_close(observer);
    if (gone) return Status::OK();
  }
  return MakeError(ErrorCode::kNetwork, "could not end session 0x{:x}", session_id);
}

}  // namespace strom::zk::testing
