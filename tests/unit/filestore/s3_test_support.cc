// Test support for the S3 store tests: moto_server process control, a scripted HTTP server and a
// self-signed certificate generator.
#include "s3_test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

extern char** environ;

namespace kalam::filestore::testing {
namespace fs = std::filesystem;

std::string FindMotoServer() {
  if (const char* env = std::getenv("KALAM_MOTO_SERVER"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  for (fs::path dir = exe.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    fs::path candidate = dir / ".venv" / "bin" / "moto_server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    if (dir == dir.root_path()) break;
  }
  return "";
}

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

namespace {

bool CanConnect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string Tail(const std::string& file) {
  std::ifstream in(file);
  std::string all((std::istreambuf_iterator<char>(in)), {});
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

}  // namespace

MotoServer::~MotoServer() { Stop(); }

Status MotoServer::Start(const Options& options, const std::string& log_file) {
  const std::string exe = FindMotoServer();
  if (exe.empty()) {
    return Status::FailedPrecondition(
        "moto_server not found: the S3 tests need it. Install it with "
        "`python3 -m venv .venv && .venv/bin/pip install 'moto[server]'` in the repository root, "
        "or point KALAM_MOTO_SERVER at the executable.");
  }
  port_ = FreePort();
  std::vector<std::string> args = {exe, "-H", "127.0.0.1", "-p", std::to_string(port_)};
  if (!options.cert_file.empty()) {
    args.insert(args.end(), {"-c", options.cert_file, "-k", options.key_file});
  }
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "INITIAL_NO_AUTH_ACTION_COUNT=", 29) != 0) env.emplace_back(*e);
  }
  if (options.no_auth_actions >= 0) {
    env.push_back("INITIAL_NO_AUTH_ACTION_COUNT=" + std::to_string(options.no_auth_actions));
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  int rc = ::posix_spawn(&pid_, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    return Status::FailedPrecondition("cannot start " + exe + ": " + std::strerror(rc));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int wstatus = 0;
    if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::FailedPrecondition(exe + " exited during startup; its log:\n" +
                                        Tail(log_file));
    }
    if (CanConnect(port_)) return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Stop();
  return Status::FailedPrecondition(exe + " did not accept connections on port " +
                                    std::to_string(port_) + " within 60 s; its log:\n" +
                                    Tail(log_file));
}

void MotoServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int wstatus = 0;
  ::waitpid(pid_, &wstatus, 0);
  pid_ = -1;
}

// ---- FakeHttpServer ----

FakeHttpServer::FakeHttpServer(std::vector<Reply> replies) : replies_(std::move(replies)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listen_fd_, 16);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

FakeHttpServer::~FakeHttpServer() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
  std::lock_guard lock(mu_);
  for (int fd : open_fds_) ::close(fd);
}

std::vector<std::string> FakeHttpServer::heads() const {
  std::lock_guard lock(mu_);
  return heads_;
}
std::vector<std::string> FakeHttpServer::bodies() const {
  std::lock_guard lock(mu_);
  return bodies_;
}
int FakeHttpServer::request_count() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(heads_.size());
}

void FakeHttpServer::Serve() {
  size_t next_reply = 0;
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    // Read the head, then Content-Length bytes of body.
    std::string data;
    char buf[4096];
    size_t head_end = std::string::npos;
    size_t want = 0;
    while (!stop_) {
      pollfd q{fd, POLLIN, 0};
      if (::poll(&q, 1, 20) <= 0) continue;
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      data.append(buf, static_cast<size_t>(n));
      if (head_end == std::string::npos) {
        head_end = data.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          std::string lower = data.substr(0, head_end);
          for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          size_t cl = lower.find("\r\ncontent-length:");
          want = cl == std::string::npos ? 0 : std::strtoul(lower.c_str() + cl + 17, nullptr, 10);
        }
      }
      if (head_end != std::string::npos && data.size() >= head_end + 4 + want) break;
    }
    const Reply& reply = replies_[std::min(next_reply++, replies_.size() - 1)];
    {
      std::lock_guard lock(mu_);
      heads_.push_back(head_end == std::string::npos ? data : data.substr(0, head_end));
      bodies_.push_back(head_end == std::string::npos ? "" : data.substr(head_end + 4));
    }
    if (reply.hang) {
      std::lock_guard lock(mu_);
      open_fds_.push_back(fd);
      continue;
    }
    // A scripted Content-Length (a HEAD answer's) replaces the body's.
    const bool own_length = reply.headers.find("Content-Length:") != std::string::npos;
    std::string response = "HTTP/1.1 " + std::to_string(reply.status) + " Scripted\r\n" +
                           (own_length ? std::string()
                                       : "Content-Length: " + std::to_string(reply.body.size()) +
                                             "\r\n") +
                           reply.headers + "Connection: close\r\n\r\n" + reply.body;
    size_t off = 0;
    while (off < response.size()) {
      ssize_t n = ::write(fd, response.data() + off, response.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(fd);
  }
}

// ---- certificates ----

Status WriteSelfSignedCertificate(const std::string& san, const std::string& cert_file,
                                  const std::string& key_file) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) return Status::Internal("EVP_EC_gen failed");
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("kalam-test"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  using Extension = std::pair<int, std::string>;
  for (const auto& [nid, value] : {Extension{NID_subject_alt_name, san},
                                   Extension{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) return Status::Internal("cannot build extension " + value);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return Status::Internal("X509_sign");
  FILE* f = std::fopen(cert_file.c_str(), "w");
  if (f == nullptr) return Status::IoError("cannot write " + cert_file);
  PEM_write_X509(f, cert.get());
  std::fclose(f);
  f = std::fopen(key_file.c_str(), "w");
  if (f == nullptr) return Status::IoError("cannot write " + key_file);
  PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  return Status::OK();
}

}  // namespace kalam::filestore::testing
