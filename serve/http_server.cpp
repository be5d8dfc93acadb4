// Boost.Beast implementation of serve::HttpServer. Each connection is a Session on its own strand;
// responses are serialized by hand into a write queue so complete replies and chunked streams share
// one path; a Responder posts into the session's strand from any thread.
#include "serve/http_server.hpp"

#include <sys/socket.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <future>
#include <array>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"

namespace autothink::serve {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

const char* http_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

namespace {

std::string http_head(int status, const std::string& content_type, const HttpHeaders& headers, bool keep_alive,
                      std::optional<size_t> content_length) {
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + http_reason(status) + "\r\n";
  h += "Server: autothink\r\n";
  if (!content_type.empty()) h += "Content-Type: " + content_type + "\r\n";
  if (content_length) h += "Content-Length: " + std::to_string(*content_length) + "\r\n";
  else h += "Transfer-Encoding: chunked\r\n";
  if (!keep_alive) h += "Connection: close\r\n";
  for (const auto& [k, v] : headers) h += k + ": " + v + "\r\n";
  h += "\r\n";
  return h;
}

std::string http_error_body(const std::string& message, const std::string& type, const std::string& code) {
  nlohmann::json j = {{"error", {{"message", message}, {"type", type}, {"code", code}, {"param", nullptr}}}};
  return j.dump();
}

struct ServerState;
class Session;

// One request's answer channel; ignores everything after the response ended.
class SessionResponder : public Responder, public std::enable_shared_from_this<SessionResponder> {
 public:
  SessionResponder(std::shared_ptr<Session> session, bool keep_alive) : session_(std::move(session)), keep_alive_(keep_alive) {}
  void send(HttpResponse response) override;
  void start_stream(int status, const std::string& content_type, HttpHeaders headers) override;
  void write(std::string chunk) override;
  void end() override;
  bool closed() const override { return closed_.load(); }
  void on_close(std::function<void()> callback) override {
    bool fire = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_.load()) fire = true;
      else on_close_ = std::move(callback);
    }
    if (fire && callback) callback();
  }
  // From the session: the client went away before the response ended.
  void mark_closed() {
    std::function<void()> cb;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_.exchange(true)) return;
      cb = std::move(on_close_);
    }
    if (cb) cb();
  }

 private:
  void post(std::string bytes, bool last);
  std::shared_ptr<Session> session_;
  bool keep_alive_;
  std::atomic<bool> closed_{false};
  std::mutex mutex_;
  std::function<void()> on_close_;
  bool started_ = false, ended_ = false;  // guarded by mutex_
};

struct ServerState {
  HttpServerOptions options;
  HttpHandler handler;
  net::io_context ioc;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> in_flight{0};
  std::mutex sessions_mutex;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<ServerState> state) : state_keep_(std::move(state)), stream_(std::move(socket)), state_(*state_keep_) {}

  void start() {
    {
      std::lock_guard<std::mutex> lock(state_.sessions_mutex);
      state_.sessions.insert(weak_from_this());
    }
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }
  ~Session() {
    if (in_flight_) state_.in_flight.fetch_sub(1);
  }

  // Any thread: queue bytes of the current response (last = the response is complete).
  void post_bytes(std::shared_ptr<SessionResponder> responder, std::string bytes, bool last) {
    net::post(stream_.get_executor(), [self = shared_from_this(), responder, bytes = std::move(bytes), last]() mutable {
      if (self->closed_ || responder != self->responder_) return;
      self->queue_.push_back(std::move(bytes));
      if (last) self->response_done_ = true;
      self->flush();
    });
  }
  void close_from_server() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->fail("server stopping"); });
  }

 private:
  void do_read() {
    if (closed_) return;
    if (state_.stopping) return fail("server stopping");
    parser_.emplace();
    parser_->body_limit(state_.options.body_limit);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(state_.options.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      if (ec == http::error::body_limit)
        return reply_and_close(413, "request body exceeds the limit of " + std::to_string(state_.options.body_limit) +
                                        " bytes", "request_too_large");
      if (ec == http::error::header_limit)
        return reply_and_close(431, "request headers are too large", "headers_too_large");
      if (ec == beast::error::timeout) {
        log::debug("serve: closing a connection that sent no complete request within the read timeout");
        return fail("read timeout");
      }
      if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
          ec == net::error::operation_aborted)
        return fail("client closed");
      return reply_and_close(400, std::string("malformed HTTP request: ") + ec.message(), "bad_request");
    }
    stream_.expires_never();
    auto msg = parser_->release();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers[name] = std::string(field.value());
    }
    req.body = std::move(msg.body());
    begin_response(msg.keep_alive() && !state_.stopping);

    const auto& key = state_.options.api_key;
    if (!key.empty() && req.path().rfind("/v1/", 0) == 0 && req.header("authorization") != "Bearer " + key) {
      HttpResponse r;
      r.status = 401;
      r.body = http_error_body("missing or wrong API key: send \"Authorization: Bearer <key>\"",
                               "authentication_error", "invalid_api_key");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      responder_->send(std::move(r));
      return;
    }
    watch_disconnect();
    try {
      state_.handler(std::move(req), responder_);
    } catch (const std::exception& e) {
      log::error("serve: handler failed: ", e.what());
      HttpResponse r;
      r.status = 500;
      r.body = http_error_body(std::string("internal error: ") + e.what(), "server_error", "internal_error");
      responder_->send(std::move(r));
    }
  }

  void begin_response(bool keep_alive) {
    keep_alive_ = keep_alive;
    response_done_ = false;
    in_flight_ = true;
    state_.in_flight.fetch_add(1);
    responder_ = std::make_shared<SessionResponder>(shared_from_this(), keep_alive_);
  }

  // A peer that closes its socket while the model works makes the socket readable with EOF.
  void watch_disconnect() {
    const uint64_t id = ++watch_id_;
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this(), id](beast::error_code ec) {
      if (ec || id != self->watch_id_ || !self->in_flight_ || self->closed_) return;
      char c;
      ssize_t n = ::recv(self->stream_.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        self->fail("client disconnected");
      else if (n < 0)
        self->watch_disconnect();
      // n > 0: a pipelined request is waiting; it is read after this response.
    });
  }

  void flush() {
    if (writing_ || closed_) return;
    if (queue_.empty()) {
      if (response_done_ && in_flight_) after_response();
      return;
    }
    writing_ = true;
    stream_.expires_after(state_.options.write_timeout);
    net::async_write(stream_, net::buffer(queue_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
      self->writing_ = false;
      if (self->closed_) return;  // fail() ran while the write was in flight
      if (ec) return self->fail("write failed: " + ec.message());
      self->stream_.expires_never();
      self->queue_.pop_front();
      self->flush();
    });
  }

  void after_response() {
    in_flight_ = false;
    state_.in_flight.fetch_sub(1);
    ++watch_id_;
    responder_.reset();
    if (keep_alive_ && !state_.stopping) return do_read();
    graceful_close();
  }

  // Answers an unreadable request, then closes after draining what the client still sends (so it
  // sees the status instead of a reset).
  void reply_and_close(int status, const std::string& message, const std::string& code) {
    keep_alive_ = false;
    begin_response(false);
    HttpResponse r;
    r.status = status;
    r.body = http_error_body(message, "invalid_request_error", code);
    responder_->send(std::move(r));
  }

  void graceful_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    drain_ = std::make_shared<std::array<char, 4096>>();
    stream_.expires_after(std::chrono::seconds(2));
    drain_some();
  }
  void drain_some() {
    stream_.async_read_some(net::buffer(*drain_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->fail("closed");
      self->drain_some();
    });
  }

  void fail(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    log::debug("serve: connection closed: ", why);
    if (responder_) responder_->mark_closed();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    if (!writing_) queue_.clear();  // an in-flight write still points into the front buffer
    if (in_flight_) {
      in_flight_ = false;
      state_.in_flight.fetch_sub(1);
    }
    responder_.reset();
    std::lock_guard<std::mutex> lock(state_.sessions_mutex);
    state_.sessions.erase(weak_from_this());
  }

  std::shared_ptr<ServerState> state_keep_;  // outlives the socket (a Responder may outlive the server)
  beast::tcp_stream stream_;
  ServerState& state_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::deque<std::string> queue_;
  std::shared_ptr<SessionResponder> responder_;
  std::shared_ptr<std::array<char, 4096>> drain_;
  uint64_t watch_id_ = 0;
  bool writing_ = false, response_done_ = false, keep_alive_ = true, in_flight_ = false, closed_ = false;
};

void SessionResponder::post(std::string bytes, bool last) { session_->post_bytes(shared_from_this(), std::move(bytes), last); }

void SessionResponder::send(HttpResponse response) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (started_ || ended_) return;
    started_ = ended_ = true;
  }
  std::string bytes = http_head(response.status, response.content_type, response.headers, keep_alive_, response.body.size());
  bytes += response.body;
  post(std::move(bytes), true);
}

void SessionResponder::start_stream(int status, const std::string& content_type, HttpHeaders headers) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (started_ || ended_) return;
    started_ = true;
  }
  headers.emplace_back("Cache-Control", "no-cache");
  post(http_head(status, content_type, headers, keep_alive_, std::nullopt), false);
}

void SessionResponder::write(std::string chunk) {
  if (chunk.empty()) return;  // an empty chunk would end the body
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!started_ || ended_) return;
  }
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
  post(std::string(size) + chunk + "\r\n", false);
}

void SessionResponder::end() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!started_ || ended_) return;
    ended_ = true;
  }
  post("0\r\n\r\n", true);
}

}  // namespace

struct HttpServer::Impl {
  std::shared_ptr<ServerState> state;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool started = false, stopped = false;

  void do_accept() {
    acceptor->async_accept(net::make_strand(state->ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
        log::warn("serve: accept failed: ", ec.message());
      } else {
        std::make_shared<Session>(std::move(socket), state)->start();
      }
      if (acceptor->is_open()) do_accept();
    });
  }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler) : impl_(std::make_unique<Impl>()) {
  impl_->state = std::make_shared<ServerState>();
  impl_->state->options = std::move(options);
  impl_->state->handler = std::move(handler);
  if (impl_->state->options.threads < 1) impl_->state->options.threads = 1;
}

HttpServer::~HttpServer() { stop(); }

const HttpServerOptions& HttpServer::options() const { return impl_->state->options; }
uint16_t HttpServer::port() const { return impl_->port; }
size_t HttpServer::in_flight() const { return impl_->state->in_flight.load(); }

void HttpServer::start() {
  if (impl_->started) return;
  auto& st = *impl_->state;
  const std::string where = st.options.host + ":" + std::to_string(st.options.port);
  beast::error_code ec;
  auto address = net::ip::make_address(st.options.host, ec);
  if (ec) throw Error("invalid listen address '" + st.options.host + "'", "serve --host", "use an IP address such as 127.0.0.1 or 0.0.0.0");
  tcp::endpoint endpoint(address, st.options.port);
  impl_->acceptor.emplace(net::make_strand(st.ioc));
  auto& acc = *impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw Error("cannot listen on " + where + ": " + ec.message(), "serve --host/--port",
                      "pick another --port (or stop the process that holds it)");
  impl_->port = acc.local_endpoint().port();
  impl_->started = true;
  impl_->do_accept();
  for (int i = 0; i < st.options.threads; ++i)
    impl_->threads.emplace_back([state = impl_->state] {
      for (;;) {
        try {
          state->ioc.run();
          return;
        } catch (const std::exception& e) {
          log::error("serve: I/O thread: ", e.what());
        }
      }
    });
}

void HttpServer::stop_accepting() {
  if (!impl_->started || impl_->stopped || !impl_->acceptor) return;
  std::promise<void> done;
  auto fut = done.get_future();
  net::post(impl_->acceptor->get_executor(), [this, &done] {
    beast::error_code ignored;
    impl_->acceptor->close(ignored);
    done.set_value();
  });
  if (!impl_->state->ioc.stopped()) fut.wait_for(std::chrono::seconds(5));
}

void HttpServer::stop(std::chrono::milliseconds grace) {
  if (!impl_->started || impl_->stopped) return;
  auto& st = *impl_->state;
  stop_accepting();
  impl_->stopped = true;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (st.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  st.stopping = true;
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard<std::mutex> lock(st.sessions_mutex);
    for (auto& w : st.sessions)
      if (auto s = w.lock()) open.push_back(std::move(s));
  }
  for (auto& s : open) s->close_from_server();
  open.clear();
  // Closed sockets finish their handlers quickly; then the threads run out of work.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!st.ioc.stopped() && std::chrono::steady_clock::now() < until) {
    std::lock_guard<std::mutex> lock(st.sessions_mutex);
    if (st.sessions.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  st.ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace autothink::serve
