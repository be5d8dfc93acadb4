// serve::HttpServer — a thin HTTP/1.1 server on Boost.Asio + Beast: a pool of I/O threads,
// keep-alive, chunked streaming, a request body limit (413), read timeouts for slow clients, an
// optional Bearer key for /v1/* (401), disconnect detection while a response is pending, and a
// graceful stop. It knows nothing of the model: every request goes to one HttpHandler.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "serve/http_types.hpp"

namespace autothink::serve {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;  // 0 = a free port chosen by the system (see HttpServer::port())
  int threads = 2;       // I/O threads
  size_t body_limit = 8u << 20;  // bytes; larger bodies get 413
  // A request (headers and body) must arrive within this; also how long an idle keep-alive
  // connection is kept.
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{60000};  // a client that stops reading is dropped
  std::string api_key;  // non-empty: /v1/* requests need "Authorization: Bearer <api_key>"
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O threads. Throws autothink::Error when the address is taken
  // or invalid.
  void start();
  uint16_t port() const;
  const HttpServerOptions& options() const;
  // Closes the listening socket; open connections keep being served.
  void stop_accepting();
  // Stops accepting, waits up to `grace` for pending responses to finish, then closes every
  // connection and joins the I/O threads. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0));
  // Responses started but not yet fully written.
  size_t in_flight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace autothink::serve
