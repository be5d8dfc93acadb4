// The completion source of commands that sample through data::Generator (`data tag`, `eval`):
// `--model DIR` (the in-process engine over the folder's model and tokenizer) or `--endpoint URL`
// (an OpenAI-compatible server through serve::OpenAIClient), or `--model DIR --serve` (the folder
// served in-process on a loopback port and reached over HTTP like any app), plus their flags.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/generator.hpp"
#include "data/tokenizer.hpp"

namespace autothink::apps {

struct GeneratorArgs {
  std::string model_dir;
  std::string endpoint;
  std::string api_key;
  std::string model_name;  // endpoint: the model id to ask for ("" = the server's)
  std::string tokenizer;   // a tokenizer.model or model folder (endpoint: for exact token counts)
  std::string device = "cpu";
  int64_t max_batch = 0;   // engine slots; 0 = what the command asks for
  int concurrency = 8;     // endpoint: requests in flight
  std::string api;         // endpoint: "completions" | "chat" ("" = completions, or chat with --serve)
  bool serve = false;      // --model: serve it on 127.0.0.1 and go through the HTTP API
  std::string steering;    // --model (in-process): steering vectors (PTS JSONL) for inputs that ask
  int64_t steering_layer = -1;
};

// Adds --model, --endpoint (exactly one is required at run time), --api-key, --model-name,
// --tokenizer, --device, --max-batch, --concurrency, --api, --serve.
void add_generator_options(CLI::App* cmd, GeneratorArgs& args);

// An open completion source: the generator and, when one is known, the tokenizer of the model.
class GeneratorSource {
 public:
  virtual ~GeneratorSource() = default;
  virtual data::Generator& generator() = 0;
  // The model folder's tokenizer (--model), or --tokenizer; null otherwise.
  virtual const data::Tokenizer* tokenizer() const = 0;
  virtual std::string describe() const = 0;  // "model DIR on cpu" | "endpoint URL"
};

// Opens --model or --endpoint. `max_batch`: sequences the engine decodes together (the command's
// batch, unless --max-batch says otherwise). The engine's context per sequence is sized for the
// longest prompt of `questions` (rendered in every prompt mode) plus `max_tokens`, capped by the
// model's context. Throws autothink::Error naming the flag for a bad combination or a missing folder.
std::unique_ptr<GeneratorSource> open_generator(const GeneratorArgs& args, int64_t max_batch,
                                                const std::vector<std::string>& questions, int64_t max_tokens);

}  // namespace autothink::apps
