#include "serve/model_server.hpp"

#include <filesystem>
#include <optional>
#include <torch/torch.h>

#include "core/error.hpp"
#include "core/log.hpp"
#include "data/tokenizer.hpp"
#include "model/checkpoint.hpp"
#include "model/engine.hpp"
#include "model/complexity_model.hpp"
#include "model/engine_generator.hpp"
#include "model/steering.hpp"
#include "serve/api_service.hpp"
#include "serve/engine_backend.hpp"
#include "serve/metrics.hpp"
#include "serve/scheduler.hpp"

namespace autothink::serve {

// Members in dependency order: each is destroyed before what it uses.
struct ModelServer::Stack {
  std::shared_ptr<const data::Tokenizer> tokenizer;
  Metrics metrics;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<ApiService> service;
  std::unique_ptr<HttpServer> server;
  bool stopped = false;
};

namespace {
// The adaptive mode's parts, loaded once: the classifier and the steering library.
AutoThinkOptions autothink_options(const ModelServerOptions& o, const std::shared_ptr<model::Qwen2Model>& net,
                                   const std::shared_ptr<const data::Tokenizer>& tokenizer) {
  AutoThinkOptions a;
  for (const auto* range : {&o.budget_high, &o.budget_low})
    if (range->min < 0 || range->max < 1 || range->min > range->max)
      throw Error("a thinking budget needs 0 <= min <= max and max >= 1", "serve.budget_high_* / serve.budget_low_*");
  if (o.max_thoughts < 1) throw Error("max_thoughts must be >= 1", "serve.max_thoughts");
  a.high = o.budget_high;
  a.low = o.budget_low;
  a.max_thoughts = o.max_thoughts;
  if (o.classifier == "model") {
    a.classifier = std::make_shared<model::ModelComplexity>(o.model_dir, net, tokenizer);
  } else if (o.classifier != "heuristic") {
    throw Error("unknown classifier '" + o.classifier + "'", "--classifier", "use heuristic or model");
  }
  if (o.steering_mode != "fixed" && o.steering_mode != "optillm")
    throw Error("unknown steering mode '" + o.steering_mode + "'", "--steering-mode", "use fixed or optillm");
  if (!o.steering.empty()) {
    model::SteeringOptions so;
    so.target_layer = o.steering_layer;
    so.mode = o.steering_mode == "optillm" ? model::SteeringMode::optillm : model::SteeringMode::fixed;
    a.steering = model::load_steering_library(o.steering, so, net->config().hidden_size,
                                              net->config().num_hidden_layers, *tokenizer);
    log::info("steering: ", a.steering->records().size(), " vectors from ", o.steering, " (", o.steering_mode, ")");
  }
  log::info("adaptive think mode: classifier ", o.classifier, ", HIGH ", a.high.min, "-", a.high.max, ", LOW ", a.low.min,
            "-", a.low.max, " thinking tokens, at most ", a.max_thoughts, " thoughts");
  return a;
}
}  // namespace

ModelServer::ModelServer(ModelServerOptions options) : options_(std::move(options)), stack_(std::make_unique<Stack>()) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(options_.model_dir))
    throw Error("model folder not found: " + options_.model_dir, "--model",
                "give a folder with config.json, model.safetensors and tokenizer.json or tokenizer.model");
  if (options_.max_batch < 1) throw Error("max_batch must be >= 1", "serve.max_batch");
  if (options_.model_name.empty())
    options_.model_name = fs::weakly_canonical(fs::absolute(options_.model_dir)).filename().string();
  torch::Device device(options_.device);
  if (device.is_cuda() && !torch::cuda::is_available())
    throw Error("CUDA is not available", "serve.device=" + options_.device, "use serve.device=cpu");
  std::optional<torch::ScalarType> dtype;
  if (!options_.dtype.empty()) dtype = model::dtype_from_string(options_.dtype);

  log::info("loading ", options_.model_dir, " on ", options_.device);
  const ChatTemplateChoice chat = choose_chat_template(options_.model_dir, options_.chat_template);
  data::TokenizerOptions tokenizer_options;
  tokenizer_options.require_kat_tokens = chat.family == format::ChatTemplateName::kat;
  stack_->tokenizer =
      std::make_shared<const data::Tokenizer>(data::resolve_tokenizer_path(options_.model_dir), tokenizer_options);
  auto net = model::load_model(options_.model_dir, device, dtype);
  net->eval();
  auto engine_options = model::make_engine_options(*stack_->tokenizer, options_.max_batch, options_.context);
  engine_options.steer_last_row_only = options_.steering_mode == "optillm";
  AutoThinkOptions autothink = autothink_options(options_, net, stack_->tokenizer);
  auto engine = std::make_unique<model::Engine>(net, engine_options);
  context_ = engine->options().max_len;
  stack_->scheduler = std::make_unique<Scheduler>(std::make_unique<ModelEngineBackend<>>(std::move(engine)),
                                                  SchedulerOptions{options_.max_queue}, &stack_->metrics);
  ServiceOptions so;
  so.model_name = options_.model_name;
  so.default_max_tokens = options_.default_max_tokens;
  so.max_n = options_.max_n;
  so.chat = make_chat_format(chat, *stack_->tokenizer, net->config().eos_token_ids);
  so.autothink = std::move(autothink);
  log::info("chat template: ", format::to_string(chat.family), " (", chat.source, "), tokenizer: ", stack_->tokenizer->kind());
  stack_->service = std::make_unique<ApiService>(so, stack_->tokenizer, *stack_->scheduler, stack_->metrics);
  stack_->server = std::make_unique<HttpServer>(options_.http, stack_->service->handler());
  stack_->server->start();
}

ModelServer::~ModelServer() {
  try {
    shutdown(std::chrono::milliseconds(0));
  } catch (...) {
  }
}

uint16_t ModelServer::port() const { return stack_->server->port(); }

std::string ModelServer::url() const {
  return "http://" + options_.http.host + ":" + std::to_string(port());
}

void ModelServer::shutdown(std::chrono::milliseconds grace) {
  if (stack_->stopped) return;
  stack_->stopped = true;
  stack_->server->stop_accepting();
  stack_->scheduler->shutdown(grace);
  stack_->server->stop(std::chrono::milliseconds(2000));
}

}  // namespace autothink::serve
