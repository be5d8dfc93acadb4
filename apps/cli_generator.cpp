#include "apps/cli_generator.hpp"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/error.hpp"
#include "core/log.hpp"
#include "model/checkpoint.hpp"
#include "model/engine.hpp"
#include "model/engine_generator.hpp"
#include "model/steering.hpp"
#include "serve/model_server.hpp"
#include "serve/openai_client.hpp"

namespace autothink::apps {
namespace {

// A slot holds prompt + answer: size it for this data, not the model's whole context.
int64_t context_for(const data::Tokenizer& tokenizer, const std::vector<std::string>& questions, int64_t max_tokens) {
  size_t longest = 0;
  for (const auto& q : questions) {
    format::Conversation conv;
    conv.messages.push_back(format::plain_message("user", q));
    for (auto mode : {format::PromptMode::automatic, format::PromptMode::on, format::PromptMode::off})
      longest = std::max(longest, tokenizer.encode(format::render_prompt(conv, mode)).size());
  }
  return static_cast<int64_t>(longest) + max_tokens + 1;
}

class EngineSource : public GeneratorSource {
 public:
  EngineSource(const GeneratorArgs& args, int64_t max_batch, const std::vector<std::string>& questions,
               int64_t max_tokens)
      : dir_(args.model_dir), device_(args.device) {
    torch::Device device(args.device);
    if (device.is_cuda() && !torch::cuda::is_available())
      throw Error("CUDA is not available", "--device " + args.device, "use --device cpu");
    const std::string tok_path = args.tokenizer.empty() ? args.model_dir : args.tokenizer;
    tokenizer_.emplace(data::resolve_tokenizer_path(tok_path));
    log::info("loading ", args.model_dir, " on ", args.device);
    auto net = model::load_model(args.model_dir, device);
    net->eval();
    const int64_t len = std::min<int64_t>(net->config().max_position_embeddings,
                                          context_for(*tokenizer_, questions, max_tokens));
    engine_ = std::make_unique<model::Engine>(net, model::make_engine_options(*tokenizer_, std::max<int64_t>(1, max_batch), len));
    if (!args.steering.empty()) {
      model::SteeringOptions so;
      so.target_layer = args.steering_layer;
      steering_ = model::load_steering_library(args.steering, so, net->config().hidden_size,
                                               net->config().num_hidden_layers, *tokenizer_);
      log::info("steering: ", steering_->records().size(), " vectors from ", args.steering);
    }
    generator_ = std::make_unique<model::EngineGenerator>(*engine_, *tokenizer_, steering_.get());
  }
  data::Generator& generator() override { return *generator_; }
  const data::Tokenizer* tokenizer() const override { return &*tokenizer_; }
  std::string describe() const override { return "model " + dir_ + " on " + device_; }

 private:
  std::string dir_, device_;
  std::optional<data::Tokenizer> tokenizer_;
  std::unique_ptr<model::Engine> engine_;
  std::shared_ptr<model::SteeringLibrary> steering_;
  std::unique_ptr<model::EngineGenerator> generator_;
};

// "completions" | "chat" from --api (default: completions; chat with --serve).
std::string client_api(const GeneratorArgs& args) {
  const std::string api = args.api.empty() ? (args.serve ? "chat" : "completions") : args.api;
  if (api != "completions" && api != "chat") throw Error("unknown API \"" + args.api + "\"", "--api", "use completions or chat");
  return api;
}

std::unique_ptr<serve::OpenAIClient> make_client(const GeneratorArgs& args, const std::string& url, int concurrency) {
  serve::OpenAIClientOptions options;
  options.base_url = url;
  options.api_key = args.api_key;
  options.model = args.model_name;
  options.api = client_api(args);
  options.concurrency = std::max(1, concurrency);
  return std::make_unique<serve::OpenAIClient>(options);
}

std::string api_path(const GeneratorArgs& args) { return client_api(args) == "chat" ? "/v1/chat/completions" : "/v1/completions"; }

class EndpointSource : public GeneratorSource {
 public:
  explicit EndpointSource(const GeneratorArgs& args)
      : url_(args.endpoint), path_(api_path(args)), client_(make_client(args, args.endpoint, args.concurrency)) {
    if (!args.tokenizer.empty()) tokenizer_.emplace(data::resolve_tokenizer_path(args.tokenizer));
  }
  data::Generator& generator() override { return *client_; }
  const data::Tokenizer* tokenizer() const override { return tokenizer_ ? &*tokenizer_ : nullptr; }
  std::string describe() const override { return "endpoint " + url_ + " (" + path_ + ")"; }

 private:
  std::string url_, path_;
  std::unique_ptr<serve::OpenAIClient> client_;
  std::optional<data::Tokenizer> tokenizer_;
};

// --model DIR --serve: the folder served on a loopback port (the stack of `autothink serve`),
// sampled through HTTP as apps do. Members are destroyed in reverse: the client before the server.
class ServedSource : public GeneratorSource {
 public:
  ServedSource(const GeneratorArgs& args, int64_t max_batch, const std::vector<std::string>& questions, int64_t max_tokens)
      : dir_(args.model_dir), path_(api_path(args)) {
    tokenizer_.emplace(data::resolve_tokenizer_path(args.tokenizer.empty() ? args.model_dir : args.tokenizer));
    serve::ModelServerOptions options;
    options.model_dir = args.model_dir;
    options.device = args.device;
    options.max_batch = static_cast<int>(std::max<int64_t>(1, max_batch));
    options.max_queue = 1u << 16;  // the client sends what it has; nothing should be refused
    options.context = context_for(*tokenizer_, questions, max_tokens);
    std::ifstream config_file(std::filesystem::path(args.model_dir) / "config.json");
    const auto config = nlohmann::json::parse(config_file, nullptr, /*allow_exceptions=*/false);
    if (config.is_object() && config.value("max_position_embeddings", int64_t{0}) > 0)
      options.context = std::min(options.context, config["max_position_embeddings"].get<int64_t>());
    options.http.host = "127.0.0.1";
    options.http.port = 0;
    server_ = std::make_unique<serve::ModelServer>(options);
    log::info("serving ", args.model_dir, " at ", server_->url(), " for this run");
    client_ = make_client(args, server_->url(), std::max(args.concurrency, 16));
  }
  data::Generator& generator() override { return *client_; }
  const data::Tokenizer* tokenizer() const override { return &*tokenizer_; }
  std::string describe() const override { return "model " + dir_ + " served at " + server_->url() + " (" + path_ + ")"; }

 private:
  std::string dir_, path_;
  std::optional<data::Tokenizer> tokenizer_;
  std::unique_ptr<serve::ModelServer> server_;
  std::unique_ptr<serve::OpenAIClient> client_;
};

}  // namespace

void add_generator_options(CLI::App* cmd, GeneratorArgs& args) {
  auto* model = cmd->add_option("--model", args.model_dir,
                                "Model folder to sample in-process (config.json, safetensors, tokenizer.model)");
  auto* endpoint = cmd->add_option("--endpoint", args.endpoint,
                                   "OpenAI-compatible server to sample from instead (http://host:port; "
                                   "uses /v1/completions with the rendered KAT prompt)");
  model->excludes(endpoint);
  endpoint->excludes(model);
  cmd->add_option("--api-key", args.api_key, "--endpoint: sent as 'Authorization: Bearer KEY'");
  cmd->add_option("--model-name", args.model_name, "--endpoint: the model id to request (default: the server's)");
  cmd->add_option("--tokenizer", args.tokenizer,
                  "tokenizer.model, tokenizer.json or model folder (default with --model: the folder's; with --endpoint: "
                  "enables exact reasoning-token counts)");
  cmd->add_option("--device", args.device, "--model: cpu | cuda | cuda:N")->capture_default_str();
  cmd->add_option("--max-batch", args.max_batch, "--model: sequences decoded together (default: the whole batch)");
  cmd->add_option("--concurrency", args.concurrency, "--endpoint: requests in flight")->capture_default_str();
  cmd->add_option("--api", args.api,
                  "--endpoint: completions (the rendered KAT prompt; any OpenAI-compatible server) or chat "
                  "(/v1/chat/completions with think_mode, scoring the judge / think_mode / reasoning_content / "
                  "content fields autothink serve returns) [default completions; chat with --serve]");
  cmd->add_flag("--serve", args.serve,
                "--model: serve the folder on 127.0.0.1 (a free port, the stack of `autothink serve`) and sample "
                "through HTTP, as apps do");
}

std::unique_ptr<GeneratorSource> open_generator(const GeneratorArgs& args, int64_t max_batch,
                                                const std::vector<std::string>& questions, int64_t max_tokens) {
  if (args.model_dir.empty() == args.endpoint.empty())
    throw Error("give exactly one of --model DIR and --endpoint URL", "completion source");
  if (args.serve && args.model_dir.empty()) throw Error("--serve needs --model DIR", "--serve");
  if (!args.api.empty() && args.endpoint.empty() && !args.serve) throw Error("--api needs --endpoint or --serve", "--api");
  if (!args.steering.empty() && (args.model_dir.empty() || args.serve))
    throw Error("steering vectors apply in-process only", "--steering", "evaluate with --model DIR (without --serve)");
  if (!args.endpoint.empty()) return std::make_unique<EndpointSource>(args);
  if (!std::filesystem::is_directory(args.model_dir))
    throw Error("model folder not found: " + args.model_dir, "--model", "train one with `autothink train`");
  if (args.serve)
    return std::make_unique<ServedSource>(args, args.max_batch > 0 ? args.max_batch : max_batch, questions, max_tokens);
  return std::make_unique<EngineSource>(args, args.max_batch > 0 ? args.max_batch : max_batch, questions,
                                        max_tokens);
}

}  // namespace autothink::apps
