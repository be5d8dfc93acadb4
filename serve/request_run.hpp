// The run of one OpenAI request over the scheduler: checks that every prompt fits the context,
// builds one engine sequence per choice (sampling, stops, the thinking budget), submits the Job
// and answers through the Responder from the scheduler's callbacks — the whole reply, or an SSE
// stream of parser-split deltas. A client that goes away cancels the job.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "serve/http_types.hpp"
#include "serve/openai_schema.hpp"
#include "serve/service_context.hpp"

namespace autothink::serve {

enum class Endpoint { chat, completion };

// One prompt to generate from: its ids and the assistant text the prompt already holds (what the
// parser is fed first).
struct SequencePlan {
  std::vector<int64_t> prompt;
  std::string prefill;
  std::optional<AutoThinkDecision> autothink;  // think_mode "adaptive"
};

// Throws ApiException for a request that cannot run (a prompt or max_tokens past the context);
// answers 429 / 503 itself when the scheduler refuses the job.
void run_request(const ServiceContext& context, Endpoint endpoint, const GenerationRequest& request,
                 const std::vector<SequencePlan>& plans, const std::shared_ptr<Responder>& responder);

}  // namespace autothink::serve
