// What the OpenAI service and every request it runs share: the service options and the one
// tokenizer, scheduler and metrics of the server (owned by ApiService's caller).
#pragma once
#include <memory>
#include <string>

#include "data/tokenizer.hpp"
#include "serve/autothink_policy.hpp"
#include "serve/chat_format.hpp"
#include "serve/metrics.hpp"
#include "serve/scheduler.hpp"

namespace autothink::serve {

struct ServiceOptions {
  std::string model_name = "autothink";  // GET /v1/models id; requests naming another model get 404
  int default_max_tokens = 1024;  // when a request gives none (always capped by the context left)
  int max_n = 16;
  int retry_after_s = 1;          // Retry-After of 429 / 503 answers
  ChatFormat chat;                // the model's chat template family, stops, think tokens (default KAT)
  AutoThinkOptions autothink;     // think_mode "adaptive": classifier, budgets, steering
};

struct ServiceContext {
  ServiceOptions options;
  std::shared_ptr<const data::Tokenizer> tokenizer;
  Scheduler& scheduler;
  Metrics& metrics;
};

}  // namespace autothink::serve
