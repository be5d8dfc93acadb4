// `autothink serve`: the OpenAI-compatible HTTP server of DESIGN.md §6 over one model folder.
// Loads the model and its tokenizer, starts the scheduler thread (continuous batching over the
// engine) and the I/O threads, logs the URL, and on SIGTERM / SIGINT stops accepting, lets running
// requests finish (serve.shutdown_grace_s), cancels the rest and exits 0.
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "apps/cli_common.hpp"
#include "apps/command.hpp"
#include "core/config_registry.hpp"
#include "core/config_schema.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "serve/model_server.hpp"

namespace autothink::apps {

// The `serve` config section; flags given on the command line win over it.
struct ServeSection {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string api_key;
  std::string model_name;
  int max_batch = 16;
  int max_queue = 64;
  int threads = 2;
  int64_t context = 0;
  int default_max_tokens = 1024;
  int max_n = 16;
  int64_t body_limit = 8 << 20;
  double read_timeout_s = 30;
  double write_timeout_s = 60;
  double shutdown_grace_s = 10;
  std::string device = "cpu";
  std::string dtype;
  std::string chat_template;
  std::string classifier = "heuristic";
  std::string steering;
  int64_t steering_layer = -1;
  std::string steering_mode = "fixed";
  int budget_high_min = 1024, budget_high_max = 4096, budget_low_min = 256, budget_low_max = 1024;
  int max_thoughts = 64;
  template <class V> void fields(V& v) {
    v("host", host, "listen address");
    v("port", port, "listen port (0 = any free port)");
    v("api_key", api_key, "if set, /v1/* requests need 'Authorization: Bearer <api_key>'");
    v("model_name", model_name, "model id in /v1/models and requests (default: the model folder's name)");
    v("max_batch", max_batch, "sequences decoded together (KV-cache slots)");
    v("max_queue", max_queue, "sequences allowed to wait for a slot; beyond that requests get 429");
    v("threads", threads, "HTTP I/O threads");
    v("context", context, "tokens per sequence, prompt included (0 = the model's max_position_embeddings)");
    v("default_max_tokens", default_max_tokens, "max_tokens of requests that give none (capped by the context)");
    v("max_n", max_n, "largest n (samples per request)");
    v("body_limit", body_limit, "largest request body in bytes (413 beyond)");
    v("read_timeout_s", read_timeout_s, "a request must arrive within this; also the keep-alive idle time");
    v("write_timeout_s", write_timeout_s, "a client that stops reading for this long is dropped");
    v("shutdown_grace_s", shutdown_grace_s, "on SIGTERM, how long running requests may finish before they are cancelled");
    v("device", device, "cpu | cuda | cuda:N");
    v("dtype", dtype, "float32 | bfloat16 | float16 (default: the checkpoint's)");
    v("chat_template", chat_template,
      "kat | qwen2.5 | qwen3 | deepseek-r1 (default: recognised from tokenizer_config.json, else kat)");
    v("classifier", classifier, "think_mode adaptive: heuristic (optillm's rule) | model (the folder's classifier, `autothink classifier train`)");
    v("steering", steering, "think_mode adaptive: steering vectors (PTS JSONL, `autothink pts`); empty = none");
    v("steering_layer", steering_layer, "decoder layer for records without steering_layer (all records in optillm mode)");
    v("steering_mode", steering_mode, "fixed (ours) | optillm (its matching and layer faults, where deterministic)");
    v("budget_high_min", budget_high_min, "think_mode adaptive: least thinking tokens of a HIGH query (optillm 1024)");
    v("budget_high_max", budget_high_max, "most thinking tokens of a HIGH query (optillm 4096)");
    v("budget_low_min", budget_low_min, "least thinking tokens of a LOW query (optillm 256)");
    v("budget_low_max", budget_low_max, "most thinking tokens of a LOW query (optillm 1024)");
    v("max_thoughts", max_thoughts, "thoughts (continuation cues) after which </think> is forced (optillm 64)");
  }
};
AUTOTHINK_CONFIG_SECTION("serve", ServeSection);

namespace {

struct ServeArgs {
  ConfigArgs config;
  std::string model_dir;
  std::string host, api_key, model_name, chat_template, classifier, steering, steering_mode;
  int port = 8000, max_batch = 16, max_queue = 64, threads = 2;
  int64_t steering_layer = -1;
};

void run_serve(const ServeArgs& args, CLI::App* cmd) {
  core::Config config = load_config(args.config);
  auto s = core::read_section<ServeSection>(config, "serve");
  auto given = [&](const char* flag) { return cmd->count(flag) > 0; };
  if (given("--host")) s.host = args.host;
  if (given("--chat-template")) s.chat_template = args.chat_template;
  if (given("--port")) s.port = args.port;
  if (given("--api-key")) s.api_key = args.api_key;
  if (given("--model-name")) s.model_name = args.model_name;
  if (given("--max-batch")) s.max_batch = args.max_batch;
  if (given("--max-queue")) s.max_queue = args.max_queue;
  if (given("--threads")) s.threads = args.threads;
  if (given("--classifier")) s.classifier = args.classifier;
  if (given("--steering")) s.steering = args.steering;
  if (given("--steering-layer")) s.steering_layer = args.steering_layer;
  if (given("--steering-mode")) s.steering_mode = args.steering_mode;
  if (s.port < 0 || s.port > 65535) throw Error("port " + std::to_string(s.port) + " is out of range", "serve.port");
  if (s.max_queue < 0) throw Error("max_queue must be >= 0", "serve.max_queue");

  // Signals go to the main thread only (sigwait below): block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  serve::ModelServerOptions mo;
  mo.model_dir = args.model_dir;
  mo.model_name = s.model_name;
  mo.device = s.device;
  mo.dtype = s.dtype;
  mo.chat_template = s.chat_template;
  mo.max_batch = s.max_batch;
  mo.max_queue = static_cast<size_t>(s.max_queue);
  mo.context = s.context;
  mo.default_max_tokens = s.default_max_tokens;
  mo.max_n = s.max_n;
  mo.http.host = s.host;
  mo.http.port = static_cast<uint16_t>(s.port);
  mo.http.threads = s.threads;
  mo.http.body_limit = static_cast<size_t>(s.body_limit);
  mo.http.read_timeout = std::chrono::milliseconds(static_cast<int64_t>(s.read_timeout_s * 1000));
  mo.http.write_timeout = std::chrono::milliseconds(static_cast<int64_t>(s.write_timeout_s * 1000));
  mo.http.api_key = s.api_key;
  mo.classifier = s.classifier;
  mo.steering = s.steering;
  mo.steering_layer = s.steering_layer;
  mo.steering_mode = s.steering_mode;
  mo.budget_high = {s.budget_high_min, s.budget_high_max};
  mo.budget_low = {s.budget_low_min, s.budget_low_max};
  mo.max_thoughts = s.max_thoughts;
  serve::ModelServer server(mo);
  log::info("serving '", server.model_name(), "' (context ", server.context(), ", max batch ", s.max_batch, ") at ",
            server.url(), "/v1", s.api_key.empty() ? "" : " (API key required)");
  std::printf("autothink serve: listening on %s/v1 (model '%s')\n", server.url().c_str(), server.model_name().c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  log::info("got ", sig == SIGTERM ? "SIGTERM" : "SIGINT", ": stopping (", s.shutdown_grace_s, " s for running requests)");
  server.shutdown(std::chrono::milliseconds(static_cast<int64_t>(s.shutdown_grace_s * 1000)));
  log::info("stopped");
}

void setup_serve(CLI::App& root) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = root.add_subcommand("serve", "OpenAI-compatible HTTP server (chat/completions, completions, models, health, metrics)");
  cmd->add_option("--model", args->model_dir, "Model folder (config.json, model.safetensors, tokenizer.json or tokenizer.model)")->required();
  cmd->add_option("--chat-template", args->chat_template,
                  "kat | qwen2.5 | qwen3 | deepseek-r1 [serve.chat_template, default: recognised from the folder's "
                  "tokenizer_config.json, else kat]");
  cmd->add_option("--host", args->host, "Listen address [serve.host, default 127.0.0.1]");
  cmd->add_option("--port", args->port, "Listen port, 0 = any free one [serve.port, default 8000]");
  cmd->add_option("--api-key", args->api_key, "Require 'Authorization: Bearer KEY' on /v1/* [serve.api_key]");
  cmd->add_option("--model-name", args->model_name, "Model id clients use [serve.model_name, default the folder's name]");
  cmd->add_option("--max-batch", args->max_batch, "Sequences decoded together [serve.max_batch, default 16]");
  cmd->add_option("--max-queue", args->max_queue, "Sequences that may wait for a slot; more get 429 [serve.max_queue, default 64]");
  cmd->add_option("--threads", args->threads, "HTTP I/O threads [serve.threads, default 2]");
  cmd->add_option("--classifier", args->classifier,
                  "Complexity classifier of think_mode \"adaptive\": heuristic | model [serve.classifier, default heuristic]")
      ->check(CLI::IsMember({"heuristic", "model"}));
  cmd->add_option("--steering", args->steering, "Steering vectors (PTS JSONL) for adaptive requests [serve.steering]")
      ->check(CLI::ExistingFile);
  cmd->add_option("--steering-layer", args->steering_layer, "Layer for records without steering_layer [serve.steering_layer]");
  cmd->add_option("--steering-mode", args->steering_mode, "fixed | optillm [serve.steering_mode, default fixed]")
      ->check(CLI::IsMember({"fixed", "optillm"}));
  add_config_options(cmd, args->config, false);
  cmd->footer(
      "Example:\n"
      "  autothink serve --model runs/tiny/sft --port 8000 &\n"
      "  curl -s http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' -d '{\n"
      "    \"messages\": [{\"role\": \"user\", \"content\": \"What is 17 + 25?\"}],\n"
      "    \"think_mode\": \"auto\", \"thinking_budget\": 256, \"max_tokens\": 300, \"stream\": false}'\n"
      "The reply's message has content (the answer), reasoning_content, judge and think_mode.\n"
      "think_mode \"adaptive\" (optillm's AutoThink): the classifier labels the query HIGH or LOW, thinking is forced\n"
      "within that class's budget (serve.budget_*; an early </think> becomes a cue such as \"Wait,\"), steered by\n"
      "--steering vectors; message.autothink reports complexity, min, max, thoughts and steering_pattern.\n"
      "\"thinking_budget\": {\"min\": N, \"max\": M} sets the range directly (an integer is the max).\n"
      "SIGTERM / Ctrl-C: stop accepting, finish running requests (serve.shutdown_grace_s), exit 0.");
  cmd->callback([args, cmd]() { run_serve(*args, cmd); });
}

}  // namespace
AUTOTHINK_COMMAND(setup_serve, 90);
}  // namespace autothink::apps
