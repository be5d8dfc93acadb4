// OpenAI response shapes and SSE framing (see openai_response.hpp).
#include "serve/openai_response.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>

#include "serve/choice_output.hpp"

namespace autothink::serve {

using json = nlohmann::json;

std::string new_response_id(const char* prefix) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%012llx%08llx", prefix, static_cast<unsigned long long>(rng() & 0xFFFFFFFFFFFFull),
                static_cast<unsigned long long>(++counter));
  return buf;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

json usage_json(int prompt_tokens, int completion_tokens, int reasoning_tokens) {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens},
          {"completion_tokens_details", {{"reasoning_tokens", reasoning_tokens}}}};
}

std::string finish_reason_name(const std::string& engine_reason) {
  return engine_reason == "cancelled" ? "abort" : engine_reason;
}

json chunk_envelope(const std::string& id, const char* object, int64_t created, const std::string& model, json choices) {
  return {{"id", id}, {"object", object}, {"created", created}, {"model", model}, {"choices", std::move(choices)}};
}

json chat_choice_chunk(int index, json delta, const std::string& finish_reason) {
  return {{"index", index},
          {"delta", std::move(delta)},
          {"logprobs", nullptr},
          {"finish_reason", finish_reason.empty() ? json(nullptr) : json(finish_reason)}};
}

json text_choice_chunk(int index, const std::string& text, const std::string& finish_reason) {
  return {{"index", index},
          {"text", text},
          {"logprobs", nullptr},
          {"finish_reason", finish_reason.empty() ? json(nullptr) : json(finish_reason)}};
}

std::string sse_event(const json& payload) { return "data: " + dump_json(payload) + "\n\n"; }

void send_json(Responder& responder, Metrics& metrics, const std::string& label, int status, const json& body,
               HttpHeaders headers) {
  metrics.count_request(label, status);
  HttpResponse resp;
  resp.status = status;
  resp.body = dump_json(body);
  resp.headers = std::move(headers);
  responder.send(std::move(resp));
}

void send_error(Responder& responder, Metrics& metrics, const std::string& label, const ApiError& error) {
  HttpHeaders headers;
  if (error.retry_after_s > 0) headers.emplace_back("Retry-After", std::to_string(error.retry_after_s));
  send_json(responder, metrics, label, error.status, error_json(error), std::move(headers));
}

}  // namespace autothink::serve
