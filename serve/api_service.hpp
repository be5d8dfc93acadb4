// serve::ApiService — the OpenAI-compatible endpoints of DESIGN.md §6 on top of the scheduler:
// POST /v1/chat/completions, POST /v1/completions (stream and non-stream), GET /v1/models,
// GET /health, GET /metrics. It is the HttpHandler of the HttpServer: it validates, tokenizes,
// submits a Job and answers from the scheduler's callbacks; it never blocks an I/O thread on the
// model, and a client that goes away cancels its sequences.
#pragma once
#include <chrono>
#include <memory>
#include <string>

#include "data/tokenizer.hpp"
#include "serve/http_types.hpp"
#include "serve/metrics.hpp"
#include "serve/scheduler.hpp"

namespace autothink::serve {

struct ServiceOptions {
  std::string model_name = "autothink";  // GET /v1/models id; requests naming another model get 404
  int default_max_tokens = 1024;  // when a request gives none (always capped by the context left)
  int max_n = 16;
  int retry_after_s = 1;          // Retry-After of 429 / 503 answers
};

class ApiService {
 public:
  ApiService(ServiceOptions options, std::shared_ptr<const data::Tokenizer> tokenizer, Scheduler& scheduler,
             Metrics& metrics);
  // The HttpHandler.
  void handle(HttpRequest request, std::shared_ptr<Responder> responder);
  HttpHandler handler() {
    return [this](HttpRequest request, std::shared_ptr<Responder> responder) {
      handle(std::move(request), std::move(responder));
    };
  }
  const ServiceOptions& options() const { return options_; }

 private:
  void chat_completions(const HttpRequest& request, const std::shared_ptr<Responder>& responder);
  void completions(const HttpRequest& request, const std::shared_ptr<Responder>& responder);

  ServiceOptions options_;
  std::shared_ptr<const data::Tokenizer> tokenizer_;
  Scheduler& scheduler_;
  Metrics& metrics_;
  int64_t started_at_;  // unix seconds (the model's "created")
};

}  // namespace autothink::serve
