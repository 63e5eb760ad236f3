#pragma once

// A loopback TCP proxy that a test owns, to cut one process off from another (e.g. a tablet
// server from ZooKeeper) and to restore the link, without touching either process.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace strom::testing {

/// Listens on 127.0.0.1 (a free port) and forwards every accepted connection to
/// 127.0.0.1:`target_port`, bytes both ways, until Cut(): every forwarded connection is then
/// reset (both sides see the connection drop) and new ones are reset as soon as they are
/// accepted, so nothing gets through, until Restore().
///
/// Thread: one private thread runs the forwarding (poll over every socket); Cut(), Restore()
/// and the accessors may be called from any thread. Lifecycle: Start() then the destructor
/// (stops the thread and closes every socket). Not copyable.
class TcpProxy {
 public:
  explicit TcpProxy(uint16_t target_port) : target_port_(target_port) {}
  ~TcpProxy() {
    stop_ = true;
    Wake();
    if (thread_.joinable()) thread_.join();
    for (const Link& link : links_) {
      ::close(link.client);
      ::close(link.server);
    }
    if (listener_ >= 0) ::close(listener_);
    if (wake_[0] >= 0) ::close(wake_[0]);
    if (wake_[1] >= 0) ::close(wake_[1]);
  }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  /// Binds a free loopback port and starts forwarding; false when a socket call failed.
  bool Start() {
    if (::pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) return false;
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener_ < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return false;
    if (::listen(listener_, 64) != 0) return false;
    socklen_t len = sizeof(addr);
    if (::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return false;
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
    return true;
  }

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  /// Resets every forwarded connection and refuses new ones until Restore().
  void Cut() {
    cut_ = true;
    Wake();
    // Returns once the forwarding thread has dropped what was open.
    std::unique_lock<std::mutex> lock(mu_);
    while (cut_generation_seen_ != cut_generation_requested_) {
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      lock.lock();
    }
  }
  /// Forwards new connections again.
  void Restore() {
    cut_ = false;
    Wake();
  }
  bool cut() const { return cut_; }
  /// Connections accepted and forwarded so far (reset ones while cut not counted).
  int forwarded() const { return forwarded_; }

 private:
  struct Link {
    int client = -1;
    int server = -1;
  };

  void Wake() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++cut_generation_requested_;
    }
    char byte = 1;
    if (wake_[1] >= 0) (void)!::write(wake_[1], &byte, 1);
  }

  /// Closes with an RST (SO_LINGER 0): the peer sees a reset, not an orderly end.
  static void Reset(int fd) {
    linger hard{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    ::close(fd);
  }

  int ConnectTarget() const {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(target_port_);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  /// Copies what `from` has to `to`; false when either side ended.
  static bool Pump(int from, int to) {
    char buffer[16384];
    ssize_t n = ::recv(from, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    ssize_t sent = 0;
    while (sent < n) {
      ssize_t w = ::send(to, buffer + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      sent += w;
    }
    return true;
  }

  void Run() {
    while (!stop_) {
      // Cut() sets cut_ before it counts its request: a request counted here is seen cut.
      uint64_t generation = 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        generation = cut_generation_requested_;
      }
      if (cut_ && !links_.empty()) {
        for (const Link& link : links_) {
          Reset(link.client);
          Reset(link.server);
        }
        links_.clear();
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        cut_generation_seen_ = generation;
      }
      std::vector<pollfd> fds;
      fds.push_back(pollfd{wake_[0], POLLIN, 0});
      fds.push_back(pollfd{listener_, POLLIN, 0});
      for (const Link& link : links_) {
        fds.push_back(pollfd{link.client, POLLIN, 0});
        fds.push_back(pollfd{link.server, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 200) < 0) continue;
      if (fds[0].revents != 0) {
        char drain[64];
        while (::read(wake_[0], drain, sizeof(drain)) > 0) {
        }
      }
      // Links accepted below were not polled: only the first `polled` have poll results.
      const size_t polled = links_.size();
      if (fds[1].revents & POLLIN) {
        int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client >= 0) {
          int server = cut_ ? -1 : ConnectTarget();
          if (server < 0) {
            Reset(client);
          } else {
            links_.push_back(Link{client, server});
            ++forwarded_;
          }
        }
      }
      std::vector<Link> kept;
      for (size_t i = 0; i < links_.size(); ++i) {
        const Link& link = links_[i];
        if (i >= polled) {
          kept.push_back(link);
          continue;
        }
        const pollfd& c = fds[2 + 2 * i];
        const pollfd& s = fds[3 + 2 * i];
        bool alive = true;
        if (c.revents != 0) alive = Pump(link.client, link.server);
        if (alive && s.revents != 0) alive = Pump(link.server, link.client);
        if (alive) {
          kept.push_back(link);
        } else {
          Reset(link.client);
          Reset(link.server);
        }
      }
      links_ = std::move(kept);
    }
  }

  const uint16_t target_port_;
  uint16_t port_ = 0;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> cut_{false};
  std::atomic<int> forwarded_{0};
  std::mutex mu_;
  uint64_t cut_generation_requested_ = 0;
  uint64_t cut_generation_seen_ = 0;
  /// Forwarding thread only.
  std::vector<Link> links_;
};

}  // namespace strom::testing
