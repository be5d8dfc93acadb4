// The HTTP layer with a fake handler (no model): keep-alive, chunked SSE framing, body limit 413,
// API key 401, slow clients dropped, disconnects noticed, graceful stop.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "http_test_client.hpp"
#include "serve/http_server.hpp"
#include "test_paths.hpp"

using namespace autothink::serve;
using namespace autothink::serve::testing;
using namespace std::chrono_literals;

namespace {

struct FakeServer {
  std::atomic<int> handled{0};
  std::atomic<bool> stream_client_gone{false};
  std::shared_ptr<Responder> parked;  // /park: answered later by the test
  std::mutex mutex;
  std::unique_ptr<HttpServer> server;

  explicit FakeServer(HttpServerOptions options = {}) {
    options.port = 0;
    server = std::make_unique<HttpServer>(options, [this](HttpRequest req, std::shared_ptr<Responder> r) {
      ++handled;
      if (req.path() == "/echo") {
        HttpResponse resp;
        resp.body = nlohmann::json{{"method", req.method}, {"body", req.body}, {"n", handled.load()}}.dump();
        r->send(resp);
      } else if (req.path() == "/sse") {
        r->start_stream(200, "text/event-stream");
        std::thread([r] {
          for (int i = 0; i < 5; ++i) r->write("data: {\"i\":" + std::to_string(i) + "}\n\n");
          r->write("data: [DONE]\n\n");
          r->end();
        }).detach();
      } else if (req.path() == "/endless") {
        r->on_close([this] { stream_client_gone = true; });
        r->start_stream(200, "text/event-stream");
        std::thread([r] {
          for (int i = 0; i < 2000 && !r->closed(); ++i) {
            r->write("data: {}\n\n");
            std::this_thread::sleep_for(5ms);
          }
          r->end();
        }).detach();
      } else if (req.path() == "/park") {
        r->on_close([this] { stream_client_gone = true; });
        std::lock_guard<std::mutex> lock(mutex);
        parked = r;
      } else {
        HttpResponse resp;
        resp.status = 404;
        resp.body = "{}";
        r->send(resp);
      }
    });
    server->start();
  }
  int port() const { return server->port(); }
};

}  // namespace

TEST(http_server, keep_alive_serves_many_requests_on_one_connection) {
  FakeServer s;
  TestConnection c(s.port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.send_request("POST", "/echo", "{\"k\":" + std::to_string(i) + "}"));
    auto r = c.read_reply();
    ASSERT_EQ(r.status, 200) << "request " << i;
    EXPECT_EQ(r.json()["body"], "{\"k\":" + std::to_string(i) + "}");
    EXPECT_EQ(r.headers.count("connection"), 0u);  // keep-alive is HTTP/1.1's default
  }
}

TEST(http_server, pipelined_requests_are_answered_in_order) {
  FakeServer s;
  TestConnection c(s.port());
  std::string two = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nA"
                    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nB";
  ASSERT_TRUE(c.send_raw(two));
  EXPECT_EQ(c.read_reply().json()["body"], "A");
  EXPECT_EQ(c.read_reply().json()["body"], "B");
}

TEST(http_server, sse_stream_is_chunked_and_framed) {
  FakeServer s;
  TestConnection c(s.port());
  ASSERT_TRUE(c.send_request("GET", "/sse"));
  int chunks = 0;
  auto r = c.read_reply([&](const std::string& chunk) {
    ++chunks;
    EXPECT_EQ(chunk.substr(0, 6), "data: ");
    EXPECT_EQ(chunk.substr(chunk.size() - 2), "\n\n");
  });
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  EXPECT_EQ(chunks, 6);
  bool done = false;
  auto events = sse_events(r.body, &done);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[4]["i"], 4);
  EXPECT_TRUE(done);
  // The connection stays usable after a stream.
  ASSERT_TRUE(c.send_request("POST", "/echo", "x"));
  EXPECT_EQ(c.read_reply().status, 200);
}

TEST(http_server, oversized_body_gets_413_and_server_keeps_serving) {
  HttpServerOptions o;
  o.body_limit = 1000;
  FakeServer s(o);
  TestConnection c(s.port());
  ASSERT_TRUE(c.send_request("POST", "/echo", std::string(5000, 'x')));
  auto r = c.read_reply();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.json()["error"]["code"], "request_too_large");
  EXPECT_EQ(http_call(s.port(), "POST", "/echo", std::string(900, 'y')).status, 200);
}

TEST(http_server, malformed_http_gets_400) {
  FakeServer s;
  TestConnection c(s.port());
  ASSERT_TRUE(c.send_raw("THIS IS NOT HTTP\r\n\r\n"));
  EXPECT_EQ(c.read_reply().status, 400);
  EXPECT_EQ(http_call(s.port(), "POST", "/echo", "ok").status, 200);
}

TEST(http_server, api_key_guards_v1_routes) {
  HttpServerOptions o;
  o.api_key = "sekret";
  FakeServer s(o);
  auto none = http_call(s.port(), "GET", "/v1/models");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.json()["error"]["type"], "authentication_error");
  EXPECT_EQ(http_call(s.port(), "GET", "/v1/models", "", {"Authorization: Bearer wrong"}).status, 401);
  EXPECT_EQ(http_call(s.port(), "GET", "/v1/models", "", {"Authorization: Bearer sekret"}).status, 404);  // reached the handler
  EXPECT_EQ(http_call(s.port(), "POST", "/echo", "x").status, 200);  // only /v1/* is guarded
  EXPECT_EQ(s.handled.load(), 2);
}

TEST(http_server, slow_client_is_dropped_after_read_timeout) {
  HttpServerOptions o;
  o.read_timeout = 300ms;
  FakeServer s(o);
  TestConnection c(s.port(), 5);
  ASSERT_TRUE(c.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));  // never finishes
  EXPECT_TRUE(c.wait_closed()) << "the server kept a half-sent request open past its read timeout";
  EXPECT_EQ(s.handled.load(), 0);
  EXPECT_EQ(http_call(s.port(), "POST", "/echo", "x").status, 200);
}

TEST(http_server, client_leaving_mid_stream_is_noticed) {
  FakeServer s;
  {
    TestConnection c(s.port());
    ASSERT_TRUE(c.send_request("GET", "/endless"));
    // Read a little of the stream, then vanish.
    EXPECT_FALSE(c.read_some().empty());
    c.reset();
  }
  autothink::testing::wait_for([&] { return s.stream_client_gone.load(); }, std::chrono::seconds(10));
  EXPECT_TRUE(s.stream_client_gone.load());
}

TEST(http_server, client_leaving_before_the_answer_is_noticed) {
  FakeServer s;
  {
    TestConnection c(s.port());
    ASSERT_TRUE(c.send_request("POST", "/park", "{}"));
    autothink::testing::wait_for([&] { std::lock_guard<std::mutex> lock(s.mutex); return s.parked != nullptr; }, std::chrono::seconds(10));
    c.close();
  }
  autothink::testing::wait_for([&] { return s.stream_client_gone.load(); }, std::chrono::seconds(10));
  EXPECT_TRUE(s.stream_client_gone.load());
  std::lock_guard<std::mutex> lock(s.mutex);
  ASSERT_TRUE(s.parked);
  EXPECT_TRUE(s.parked->closed());
}

TEST(http_server, stop_waits_for_pending_answer_within_grace) {
  FakeServer s;
  TestConnection c(s.port());
  ASSERT_TRUE(c.send_request("POST", "/park", "{}"));
  autothink::testing::wait_for([&] { std::lock_guard<std::mutex> lock(s.mutex); return s.parked != nullptr; }, std::chrono::seconds(10));
  ASSERT_TRUE(s.parked);
  std::thread answer([&] {
    std::this_thread::sleep_for(100ms);
    HttpResponse r;
    r.body = "{\"late\":true}";
    s.parked->send(r);
  });
  s.server->stop(5s);
  answer.join();
  auto r = c.read_reply();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"late\":true}");
  TestConnection after(s.port(), 1);
  EXPECT_FALSE(after.connected() && after.send_request("GET", "/echo") && after.read_reply().status == 200);
}
