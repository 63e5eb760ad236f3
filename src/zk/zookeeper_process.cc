#include "zk/zookeeper_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/status.h"

namespace strom::zk {
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

ZooKeeperProcess::ZooKeeperProcess(Options options, std::string owned_dir, uint16_t port)
    : options_(std::move(options)), dir_(std::move(owned_dir)), port_(port) {}

Result<std::unique_ptr<ZooKeeperProcess>> ZooKeeperProcess::Start(Options options) {
  if (!fs::exists("/usr/share/java/zookeeper.jar")) {
    return MakeError(ErrorCode::kUnknownServerError,
                     "Debian package zookeeper is not installed (scripts/install-deps.sh)");
  }
  const bool own_dir = options.dir.empty();
  std::string dir = options.dir;
  if (own_dir) {
    dir = (fs::temp_directory_path() / "strom-zk-XXXXXX").string();
    if (::mkdtemp(dir.data()) == nullptr) {
      return MakeError(ErrorCode::kUnknownServerError, "mkdtemp failed");
    }
  } else {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      return MakeError(ErrorCode::kStorage, "cannot create ZooKeeper dir {}: {}", dir,
                       ec.message());
    }
  }
  // A port taken between FreePort() and the server's bind makes the start fail: try again.
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    uint16_t port = options.port != 0 ? options.port : FreePort();
    if (port == 0) continue;
    std::unique_ptr<ZooKeeperProcess> server(
        new ZooKeeperProcess(options, own_dir ? dir : std::string(), port));
    last = server->Launch(dir);
    if (last.ok()) return server;
    server->Kill();
    server->dir_.clear();  // keep the directory for the next attempt
    if (options.port != 0) break;  // a fixed port: trying again would fail the same way
  }
  if (own_dir) fs::remove_all(dir);
  return last;
}

ZooKeeperProcess::~ZooKeeperProcess() {
  Kill();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string ZooKeeperProcess::address() const { return "127.0.0.1:" + std::to_string(port_); }

Status ZooKeeperProcess::Launch(const std::string& dir) {
  launch_dir_ = dir;
  fs::create_directories(dir + "/data");
  const std::string config = dir + "/zoo.cfg";
  {
    std::ofstream out(config, std::ios::trunc);
    out << "tickTime=" << options_.tick.count() << "\n"
        << "dataDir=" << dir << "/data\n"
        << "clientPortAddress=127.0.0.1\n"
        << "clientPort=" << port_ << "\n"
        << "maxClientCnxns=0\n"
        << "admin.enableServer=false\n"
        << "4lw.commands.whitelist=srvr,ruok,cons,stat\n";
  }
  const std::string log = dir + "/zookeeper.log";
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return MakeError(ErrorCode::kUnknownServerError, "fork failed");
  if (pid == 0) {
    ::setsid();  // own process group: Kill() reaches the JVM's children too
    // Die with the process that started it, even when that one is SIGKILLed.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
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

std::string ZooKeeperProcess::FourLetterCommand(const std::string& command) const {
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

void ZooKeeperProcess::Terminate(int signal) {
  if (pid_ <= 0) return;
  ::kill(-pid_, signal);
  ::kill(pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void ZooKeeperProcess::Stop() { Terminate(SIGTERM); }
void ZooKeeperProcess::Kill() { Terminate(SIGKILL); }

Status ZooKeeperProcess::Restart() {
  if (pid_ > 0) Stop();
  return Launch(launch_dir_);
}

}  // namespace strom::zk

