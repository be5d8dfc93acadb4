// serve::OpenAIClient — a data::Generator that asks an OpenAI-compatible server (ours, or vLLM
// serving a KAT-format model) for completions: POST {base_url}/v1/completions with the rendered
// prompt text and skip_special_tokens=false, so the returned text keeps the tags. With api "chat"
// it POSTs the conversation to /v1/chat/completions with think_mode instead, the way apps call
// autothink serve, and rebuilds the KAT turn from the reply's judge / think_mode /
// reasoning_content / content (what an app sees is then what is scored). Inputs are sent as
// concurrent requests from a few threads. Connection failures and non-200 answers are
// autothink::Error naming the URL and carrying the status and body.
#pragma once
#include <string>
#include <vector>

#include "data/generator.hpp"

namespace autothink::serve {

struct OpenAIClientOptions {
  std::string base_url = "http://127.0.0.1:8000";  // "http://host:port" or ".../v1"
  std::string api_key;                             // sent as "Authorization: Bearer <key>"
  std::string model;                               // "" = let the server pick its model
  std::string api = "completions";                 // "completions" | "chat" (autothink serve's KAT fields)
  int concurrency = 4;                             // requests in flight
  double timeout_s = 600;                          // per request
};

class OpenAIClient : public data::Generator {
 public:
  explicit OpenAIClient(OpenAIClientOptions options);
  std::vector<std::vector<data::Completion>> generate(const std::vector<data::GenerationInput>& inputs,
                                                      const data::GenerationParams& params) override;

  // One POST; returns the body of a 200 answer, throws autothink::Error otherwise. `path` like "/v1/models".
  std::string request(const std::string& method, const std::string& path, const std::string& body = "") const;

 private:
  OpenAIClientOptions options_;
  std::string host_, port_, base_path_;  // base_path_ without a trailing "/v1"
};

}  // namespace autothink::serve
