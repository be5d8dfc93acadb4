// The OpenAI response side: the JSON shapes (usage, the chunk envelope, chat and text choice
// chunks), SSE framing ("data: {...}\n\n", "data: [DONE]"), response ids, and sending a whole JSON
// or error reply through the Responder (counted in the metrics). No request state lives here.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "serve/api_error.hpp"
#include "serve/http_types.hpp"
#include "serve/metrics.hpp"

namespace autothink::serve {

// "chatcmpl-…" / "cmpl-…": random part + a process-wide counter, unique per process.
std::string new_response_id(const char* prefix);
int64_t unix_now();  // the "created" field: seconds since the epoch

nlohmann::json usage_json(int prompt_tokens, int completion_tokens, int reasoning_tokens);
// The engine's finish reason as OpenAI spells it ("cancelled" → "abort").
std::string finish_reason_name(const std::string& engine_reason);

// {"id","object","created","model","choices"}: a streamed chunk, or (with "usage") its last one.
nlohmann::json chunk_envelope(const std::string& id, const char* object, int64_t created, const std::string& model,
                              nlohmann::json choices);
nlohmann::json chat_choice_chunk(int index, nlohmann::json delta, const std::string& finish_reason = "");
nlohmann::json text_choice_chunk(int index, const std::string& text, const std::string& finish_reason = "");

// One server-sent event carrying `payload`, and the stream's terminator.
std::string sse_event(const nlohmann::json& payload);
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

void send_json(Responder& responder, Metrics& metrics, const std::string& label, int status, const nlohmann::json& body,
               HttpHeaders headers = {});
// The error's status and body, with Retry-After when it asks for one.
void send_error(Responder& responder, Metrics& metrics, const std::string& label, const ApiError& error);

}  // namespace autothink::serve
