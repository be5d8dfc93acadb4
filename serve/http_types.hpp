// What a request handler sees of HTTP: the request (method, target, lower-cased headers, body) and a
// thread-safe Responder through which it answers at once, later, or as a chunked stream (SSE).
// Handlers run on I/O threads and must not block: they hand work elsewhere and answer through the
// Responder from any thread.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace autothink::serve {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string target;                          // "/v1/models?x=1"
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  // The target without the query string.
  std::string path() const { return target.substr(0, target.find('?')); }
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  HttpHeaders headers;  // extra headers (Retry-After, ...)
};

class Responder {
 public:
  virtual ~Responder() = default;
  // A complete response. Later calls are ignored.
  virtual void send(HttpResponse response) = 0;
  // Starts a chunked response (e.g. text/event-stream); then write() chunks and end().
  virtual void start_stream(int status, const std::string& content_type, HttpHeaders headers = {}) = 0;
  virtual void write(std::string chunk) = 0;
  virtual void end() = 0;
  // True once the client went away (or the server closed the connection): stop producing.
  virtual bool closed() const = 0;
  // Called once, from an I/O thread, if the client goes away before the response ended.
  virtual void on_close(std::function<void()> callback) = 0;
};

using HttpHandler = std::function<void(HttpRequest request, std::shared_ptr<Responder> responder)>;

// "Bad Request", "Too Many Requests", ...
const char* http_reason(int status);

}  // namespace autothink::serve
