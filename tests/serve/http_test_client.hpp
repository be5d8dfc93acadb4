// A tiny blocking HTTP/1.1 client over POSIX sockets for the serve tests: full control over what
// is sent (partial requests, slow clients, abrupt disconnects) and a reader for Content-Length
// and chunked answers, with SSE helpers.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace autothink::serve::testing {

struct HttpReply {
  int status = 0;  // 0 = no answer (connection closed or timed out)
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  bool chunked = false;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

class TestConnection {
 public:
  explicit TestConnection(int port, double timeout_s = 30) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{static_cast<time_t>(timeout_s), static_cast<suseconds_t>((timeout_s - static_cast<long>(timeout_s)) * 1e6)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~TestConnection() { close(); }
  bool connected() const { return connected_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Closes with a reset (SO_LINGER 0): the abrupt way a client dies.
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
  }

  bool send_raw(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  bool send_request(const std::string& method, const std::string& target, const std::string& body = "",
                    const std::vector<std::string>& extra_headers = {}) {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& h : extra_headers) req += h + "\r\n";
    if (!body.empty() || method == "POST")
      req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    return send_raw(req);
  }

  // Reads one response; a chunked body is de-chunked. on_chunk sees each chunk as it arrives.
  template <class F>
  HttpReply read_reply(F on_chunk) {
    HttpReply r;
    std::string head;
    if (!read_until("\r\n\r\n", head)) return r;
    size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    if (status_line.size() < 12) return r;
    r.status = std::stoi(status_line.substr(9, 3));
    size_t pos = line_end + 2;
    while (pos < head.size()) {
      size_t e = head.find("\r\n", pos);
      if (e == std::string::npos || e == pos) break;
      std::string line = head.substr(pos, e - pos);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[name] = value;
      pos = e + 2;
    }
    if (r.headers.count("content-length")) {
      size_t len = std::stoul(r.headers["content-length"]);
      if (!read_exact(len, r.body)) r.status = 0;
      return r;
    }
    if (r.headers["transfer-encoding"] == "chunked") {
      r.chunked = true;
      for (;;) {
        std::string size_line;
        if (!read_until("\r\n", size_line)) { r.status = 0; return r; }
        size_t size = std::stoul(size_line, nullptr, 16);
        std::string chunk;
        if (!read_exact(size + 2, chunk)) { r.status = 0; return r; }
        chunk.resize(size);
        if (size == 0) break;
        on_chunk(chunk);
        r.body += chunk;
      }
    }
    return r;
  }
  HttpReply read_reply() {
    return read_reply([](const std::string&) {});
  }
  // Whatever arrives next (empty on EOF / timeout).
  std::string read_some() {
    if (buffer_.empty() && !fill()) return {};
    std::string out;
    out.swap(buffer_);
    return out;
  }
  // True when the server closed the connection (EOF) within the receive timeout.
  bool wait_closed() {
    char c;
    for (;;) {
      ssize_t n = ::recv(fd_, &c, 1, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  bool fill() {
    char buf[8192];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }
  bool read_until(const std::string& delim, std::string& out) {
    for (;;) {
      size_t at = buffer_.find(delim);
      if (at != std::string::npos) {
        out = buffer_.substr(0, at + delim.size());
        buffer_.erase(0, at + delim.size());
        return true;
      }
      if (!fill()) return false;
    }
  }
  bool read_exact(size_t n, std::string& out) {
    while (buffer_.size() < n)
      if (!fill()) return false;
    out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

// One request on a fresh connection.
inline HttpReply http_call(int port, const std::string& method, const std::string& target, const std::string& body = "",
                           const std::vector<std::string>& headers = {}) {
  TestConnection c(port);
  if (!c.connected() || !c.send_request(method, target, body, headers)) return {};
  return c.read_reply();
}

// The JSON payloads of an SSE body ("data: {...}\n\n" events); "[DONE]" is returned as a string.
inline std::vector<nlohmann::json> sse_events(const std::string& body, bool* saw_done = nullptr) {
  std::vector<nlohmann::json> out;
  if (saw_done) *saw_done = false;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) break;
    std::string event = body.substr(pos, end - pos);
    pos = end + 2;
    if (event.rfind("data: ", 0) != 0) continue;
    std::string data = event.substr(6);
    if (data == "[DONE]") {
      if (saw_done) *saw_done = true;
      continue;
    }
    out.push_back(nlohmann::json::parse(data));
  }
  return out;
}

}  // namespace autothink::serve::testing
