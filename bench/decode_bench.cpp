// decode_bench: greedy decoding tokens/s of model::Engine at given batch sizes, prefill included
// (the figure bench/peer_decode.py measures the same way). Either builds a random-weight Qwen2 of
// the given shape and saves it with model::save_model (--save DIR, so the peer loads the very same
// weights), or loads an existing model folder (--model DIR). Prints one JSON line:
//   {"autothink_decode_tok_s_bs1": ..., "autothink_decode_tok_s_bs16": ..., ...}
// Usage: decode_bench (--save DIR | --model DIR) [--prompt-len 64] [--new-tokens 128]
//                     [--batch 1,16] [--threads 2] [--repeat 3] [shape flags, see --help]
#include <map>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.hpp"
#include "model/checkpoint.hpp"
#include "model/engine.hpp"

namespace {

namespace model = autothink::model;

struct BenchArgs {
  std::string save_dir, model_dir, dtype = "float32";
  int prompt_len = 64, new_tokens = 128, threads = 2, repeat = 3;
  std::vector<int> batches{1, 16};
  model::ModelConfig shape;  // defaults: the teacher of configs/tiny.yaml
};

// Seconds to run `batch` random prompts of `prompt_len` tokens through the engine to `new_tokens`
// each (greedy, no stop tokens, so every sequence produces exactly `new_tokens`).
double time_generation(model::Engine& engine, int batch, int prompt_len, int new_tokens, std::mt19937_64& rng) {
  const int64_t vocab = engine.model().config().vocab_size;
  std::uniform_int_distribution<int64_t> token(0, vocab - 1);
  std::vector<model::SequenceRequest> requests(batch);
  for (auto& r : requests) {
    for (int i = 0; i < prompt_len; ++i) r.prompt.push_back(token(rng));
    r.max_tokens = new_tokens;
  }
  const auto start = std::chrono::steady_clock::now();
  auto results = engine.generate(std::move(requests));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& r : results)
    if (static_cast<int>(r.tokens.size()) != new_tokens)
      throw autothink::Error("sequence stopped after " + std::to_string(r.tokens.size()) + " of " +
                                 std::to_string(new_tokens) + " tokens",
                             "decode_bench");
  return seconds;
}

int run(const BenchArgs& args) {
  torch::set_num_threads(args.threads);
  torch::manual_seed(0);
  std::shared_ptr<model::Qwen2Model> net;
  if (!args.model_dir.empty()) {
    const std::map<std::string, torch::ScalarType> dtypes{
        {"float32", torch::kFloat32}, {"bfloat16", torch::kBFloat16}, {"float16", torch::kFloat16}};
    auto it = dtypes.find(args.dtype);
    if (it == dtypes.end()) throw autothink::Error("--dtype must be float32, bfloat16 or float16, got " + args.dtype, "decode_bench");
    net = model::load_model(args.model_dir, torch::kCPU, it->second);
  } else {
    model::ModelConfig config = args.shape;
    model::finalize_config(config, "decode_bench shape");
    net = std::make_shared<model::Qwen2Model>(config);
    model::save_model(*net, args.save_dir);
  }
  net->eval();
  const int max_batch = *std::max_element(args.batches.begin(), args.batches.end());
  model::EngineOptions options;
  options.max_batch = max_batch;
  // Room for the prompt and the longer of the timed and the 4-token warm-up generations.
  options.max_len = std::min<int64_t>(args.prompt_len + std::max(args.new_tokens, 4) + 1,
                                      net->config().max_position_embeddings);
  // Prefill every prompt of a batch in one step, as the peer does.
  options.prefill_tokens = static_cast<int64_t>(max_batch) * args.prompt_len;
  model::Engine engine(net, options);

  std::mt19937_64 rng(0);
  nlohmann::json out = nlohmann::json::object();
  for (int batch : args.batches) {
    time_generation(engine, batch, args.prompt_len, 4, rng);  // warm-up, as the peer
    double best = 1e30;
    for (int r = 0; r < args.repeat; ++r)
      best = std::min(best, time_generation(engine, batch, args.prompt_len, args.new_tokens, rng));
    out["autothink_decode_tok_s_bs" + std::to_string(batch)] =
        std::round(10.0 * batch * args.new_tokens / best) / 10.0;
  }
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  BenchArgs args;
  auto& s = args.shape;
  s.vocab_size = 400;
  s.hidden_size = 128;
  s.intermediate_size = 384;
  s.num_hidden_layers = 4;
  s.num_attention_heads = 4;
  s.num_key_value_heads = 2;
  s.max_position_embeddings = 1024;
  s.tie_word_embeddings = true;
  CLI::App app{"Engine decode tokens/s (prefill included), one JSON line"};
  auto* source = app.add_option_group("source");
  source->add_option("--save", args.save_dir, "Build a random-weight model of the shape below and save it here");
  source->add_option("--model", args.model_dir, "Benchmark this existing model folder instead");
  source->require_option(1);
  app.add_option("--dtype", args.dtype, "Weights and compute dtype with --model: float32 | bfloat16 | float16")->capture_default_str();
  app.add_option("--prompt-len", args.prompt_len, "Random prompt tokens per sequence")->capture_default_str();
  app.add_option("--new-tokens", args.new_tokens, "Tokens generated per sequence")->capture_default_str();
  app.add_option("--batch", args.batches, "Batch sizes, e.g. 1,16")->delimiter(',')->capture_default_str();
  app.add_option("--threads", args.threads, "torch::set_num_threads")->capture_default_str();
  app.add_option("--repeat", args.repeat, "Timed runs per batch size; the fastest is reported")->capture_default_str();
  app.add_option("--vocab", s.vocab_size, "Vocabulary size")->capture_default_str();
  app.add_option("--hidden", s.hidden_size, "Hidden size")->capture_default_str();
  app.add_option("--intermediate", s.intermediate_size, "MLP size")->capture_default_str();
  app.add_option("--layers", s.num_hidden_layers, "Decoder layers")->capture_default_str();
  app.add_option("--heads", s.num_attention_heads, "Attention heads")->capture_default_str();
  app.add_option("--kv-heads", s.num_key_value_heads, "Key/value heads")->capture_default_str();
  app.add_option("--context", s.max_position_embeddings, "max_position_embeddings")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    if (args.prompt_len < 1 || args.new_tokens < 1 || args.repeat < 1 || args.threads < 1)
      throw autothink::Error("--prompt-len, --new-tokens, --repeat and --threads must be >= 1", "decode_bench");
    return run(args);
  } catch (const std::exception& e) {
    std::cerr << "decode_bench: " << e.what() << "\n";
    return 1;
  }
}
