// The OpenAI request schema of the server (DESIGN.md §6): parsing and validation of
// /v1/chat/completions and /v1/completions bodies into plain structs. Every rejection is an
// ApiException (400, or 404 for an unknown model) that names the offending field.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/format/template.hpp"
#include "serve/api_error.hpp"

namespace autothink::serve {

// Fields shared by both endpoints.
struct GenerationRequest {
  std::string model;                // "" = the served model
  std::optional<int> max_tokens;    // absent = fill the context (capped by the server)
  double temperature = 1.0;         // OpenAI's default; 0 = greedy
  double top_p = 1.0;
  int top_k = 0;                    // 0 (or -1) = off
  std::optional<uint64_t> seed;     // absent = a fresh random seed
  std::vector<std::string> stop;    // "stop": a string or a list of strings
  int n = 1;
  bool stream = false;
  bool include_usage = false;       // stream_options.include_usage
  int thinking_budget = 0;          // max reasoning tokens; 0 = unlimited ("thinking_budget": N or {"max": N})
  int thinking_min = 0;             // "thinking_budget": {"min": N}: an early </think> becomes a continuation cue
  bool skip_special_tokens = true;  // completions only: false keeps the tag literals in `text`
};

struct ChatRequest : GenerationRequest {
  format::Conversation conversation;                        // ends with a user turn
  format::PromptMode think_mode = format::PromptMode::automatic;
  bool adaptive = false;  // think_mode "adaptive": classify the query, think on within its class's budget
};

struct CompletionRequest : GenerationRequest {
  std::vector<std::string> prompts;  // "prompt": a string or a list of strings
};

struct SchemaLimits {
  std::string model_name;  // requests naming another model get 404 model_not_found
  int max_n = 16;
  int max_stop = 16;
};

// Throw ApiException: invalid JSON (400 invalid_json), wrong types (400 invalid_type), bad values
// (400 invalid_value), empty messages, a conversation not ending with a user turn, unknown model (404).
ChatRequest parse_chat_request(std::string_view body, const SchemaLimits& limits);
CompletionRequest parse_completion_request(std::string_view body, const SchemaLimits& limits);

// The seed of sample j of a request: j = 0 uses the request's seed itself (so n=1 and n>1 agree on
// the first sample); the rest are mixed (splitmix64) so samples differ.
uint64_t derive_seed(uint64_t seed, uint64_t j);

}  // namespace autothink::serve
