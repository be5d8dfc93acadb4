// serve::ModelServer — the whole serving stack over one model folder, assembled in one place:
// tokenizer, model, engine, scheduler thread, API service and HTTP server. `autothink serve` runs
// one until a signal; `autothink eval --serve` runs one on a loopback port so a model is measured
// exactly as apps reach it.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "serve/autothink_policy.hpp"
#include "serve/http_server.hpp"

namespace autothink::serve {

struct ModelServerOptions {
  std::string model_dir;
  std::string model_name;       // "" = the model folder's name
  std::string device = "cpu";   // cpu | cuda | cuda:N
  std::string dtype;            // "" = the checkpoint's
  std::string chat_template;    // "" = recognised from tokenizer_config.json, else KAT (serve/chat_format.hpp)
  int max_batch = 16;           // KV-cache slots
  size_t max_queue = 64;        // waiting sequences beyond which requests get 429
  int64_t context = 0;          // tokens per sequence (0 = the model's max_position_embeddings)
  int default_max_tokens = 1024;
  int max_n = 16;
  HttpServerOptions http;       // host, port (0 = any free one), threads, limits, api_key
  // think_mode "adaptive" (serve/autothink_policy.hpp):
  std::string classifier = "heuristic";  // heuristic | model (the folder's classifier.safetensors)
  std::string steering;                  // PTS JSONL of steering vectors ("" = none)
  int64_t steering_layer = -1;           // records without steering_layer (all, in optillm mode)
  std::string steering_mode = "fixed";   // fixed | optillm (its faults, where deterministic)
  BudgetRange budget_high{1024, 4096}, budget_low{256, 1024};
  int max_thoughts = 64;
};

class ModelServer {
 public:
  // Loads the model and starts listening; throws autothink::Error naming what is wrong.
  explicit ModelServer(ModelServerOptions options);
  ~ModelServer();  // shutdown(0)
  ModelServer(const ModelServer&) = delete;
  ModelServer& operator=(const ModelServer&) = delete;

  uint16_t port() const;
  std::string url() const;  // http://host:port
  const std::string& model_name() const { return options_.model_name; }
  int64_t context() const { return context_; }
  // Stops accepting, lets running requests finish within `grace`, cancels the rest, stops.
  void shutdown(std::chrono::milliseconds grace);

 private:
  struct Stack;
  ModelServerOptions options_;
  int64_t context_ = 0;
  std::unique_ptr<Stack> stack_;
};

}  // namespace autothink::serve
