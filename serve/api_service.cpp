// The OpenAI endpoints (see api_service.hpp): routing, the small GET endpoints, and the two
// generation endpoints up to their SequencePlans; run_request does the rest.
#include "serve/api_service.hpp"

#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "serve/openai_response.hpp"
#include "serve/openai_schema.hpp"
#include "serve/request_run.hpp"

namespace autothink::serve {
namespace {

using json = nlohmann::json;

// The assistant part a raw prompt already holds: what follows its last "<|im_start|>assistant\n".
std::string raw_prefill(const std::string& prompt) {
  const std::string opener = std::string(format::literal(format::Special::im_start)) + "assistant\n";
  size_t at = prompt.rfind(opener);
  return at == std::string::npos ? std::string() : prompt.substr(at + opener.size());
}

bool known_path(const std::string& path) {
  return path == "/v1/chat/completions" || path == "/v1/completions" || path == "/v1/models" || path == "/health" ||
         path == "/metrics";
}

}  // namespace

ApiService::ApiService(ServiceOptions options, std::shared_ptr<const data::Tokenizer> tokenizer, Scheduler& scheduler,
                       Metrics& metrics)
    : context_{std::move(options), std::move(tokenizer), scheduler, metrics}, started_at_(unix_now()) {}

void ApiService::handle(HttpRequest request, std::shared_ptr<Responder> responder) {
  std::string label = request.path();
  try {
    route(request, responder, label);
  } catch (const ApiException& e) {
    send_error(*responder, context_.metrics, label, e.error());
  } catch (const format::TemplateError& e) {
    send_error(*responder, context_.metrics, label, invalid_request(e.what(), "messages").error());
  } catch (const std::exception& e) {
    log::error("serve: ", request.method, " ", request.path(), " failed: ", e.what());
    send_error(*responder, context_.metrics, label,
               ApiError{500, std::string("internal error: ") + e.what(), "server_error", "internal_error", "", 0});
  }
}

// Answers the request or throws ApiException; `label` (the metrics endpoint) becomes "other" for
// unknown paths.
void ApiService::route(const HttpRequest& request, const std::shared_ptr<Responder>& responder, std::string& label) {
  const std::string path = request.path();
  const bool post = request.method == "POST", get = request.method == "GET";
  if (path == "/v1/chat/completions" && post) return chat_completions(request, responder);
  if (path == "/v1/completions" && post) return completions(request, responder);
  if (path == "/v1/models" && get) return models(*responder, label);
  if (path == "/health" && get) return health(*responder, label);
  if (path == "/metrics" && get) return metrics(*responder, label);
  if (known_path(path))
    throw ApiException(ApiError{405, "method " + request.method + " is not allowed on " + path, "invalid_request_error",
                                "method_not_allowed", "", 0});
  label = "other";
  throw ApiException(ApiError{404, "no such endpoint: " + request.method + " " + path +
                                       " (try POST /v1/chat/completions, POST /v1/completions, GET /v1/models)",
                              "invalid_request_error", "not_found", "", 0});
}

void ApiService::models(Responder& responder, const std::string& label) {
  json model = {{"id", context_.options.model_name},
                {"object", "model"},
                {"created", started_at_},
                {"owned_by", "autothink"},
                {"max_model_len", context_.scheduler.context_length()}};
  send_json(responder, context_.metrics, label, 200, {{"object", "list"}, {"data", json::array({model})}});
}

void ApiService::health(Responder& responder, const std::string& label) {
  const bool draining = context_.scheduler.draining();
  send_json(responder, context_.metrics, label, draining ? 503 : 200,
            {{"status", draining ? "draining" : "ok"},
             {"model", context_.options.model_name},
             {"active_sequences", context_.metrics.active_sequences()},
             {"queue_depth", context_.metrics.queue_depth()}});
}

void ApiService::metrics(Responder& responder, const std::string& label) {
  context_.metrics.count_request(label, 200);
  HttpResponse resp;
  resp.content_type = "text/plain; version=0.0.4";
  resp.body = context_.metrics.prometheus();
  responder.send(std::move(resp));
}

void ApiService::chat_completions(const HttpRequest& request, const std::shared_ptr<Responder>& responder) {
  SchemaLimits limits{context_.options.model_name, context_.options.max_n, 16};
  ChatRequest req = parse_chat_request(request.body, limits);
  SequencePlan plan;
  if (req.adaptive) plan.autothink = decide_autothink(context_.options.autothink, format::last_user_message(req.conversation));
  ChatPrompt prompt = render_chat_prompt(context_.options.chat, req.conversation, req.think_mode);
  for (int id : context_.tokenizer->encode(prompt.segments)) plan.prompt.push_back(id);
  plan.prefill = std::move(prompt.prefill);
  run_request(context_, Endpoint::chat, req, {plan}, responder);
}

void ApiService::completions(const HttpRequest& request, const std::shared_ptr<Responder>& responder) {
  SchemaLimits limits{context_.options.model_name, context_.options.max_n, 16};
  CompletionRequest req = parse_completion_request(request.body, limits);
  std::vector<SequencePlan> plans;
  for (const auto& prompt : req.prompts) {
    SequencePlan plan;
    for (int id : context_.tokenizer->encode_with_specials(prompt)) plan.prompt.push_back(id);
    plan.prefill = raw_prefill(prompt);
    plans.push_back(std::move(plan));
  }
  run_request(context_, Endpoint::completion, req, plans, responder);
}

}  // namespace autothink::serve
