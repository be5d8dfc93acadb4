// serve::ApiService — the OpenAI-compatible endpoints of DESIGN.md §6 on top of the scheduler:
// POST /v1/chat/completions, POST /v1/completions (stream and non-stream), GET /v1/models,
// GET /health, GET /metrics. It is the HttpHandler of the HttpServer: it routes, parses the
// request (openai_schema), renders the prompt, and hands the run to run_request (request_run),
// which answers from the scheduler's callbacks; it never blocks an I/O thread on the model.
#pragma once
#include <memory>

#include "serve/http_types.hpp"
#include "serve/service_context.hpp"

namespace autothink::serve {

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
  const ServiceOptions& options() const { return context_.options; }

 private:
  void route(const HttpRequest& request, const std::shared_ptr<Responder>& responder, std::string& label);
  void chat_completions(const HttpRequest& request, const std::shared_ptr<Responder>& responder);
  void completions(const HttpRequest& request, const std::shared_ptr<Responder>& responder);
  void models(Responder& responder, const std::string& label);
  void health(Responder& responder, const std::string& label);
  void metrics(Responder& responder, const std::string& label);

  ServiceContext context_;
  int64_t started_at_;  // unix seconds (the model's "created")
};

}  // namespace autothink::serve
