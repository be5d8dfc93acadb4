// `autothink generate`: one prompt through the engine. With --prompt (needs the folder's
// tokenizer) it renders the KAT generation prompt, prints the raw completion and the parsed
// judge / mode / reasoning / answer. With --prompt-ids it works on any HF Qwen2 folder, with or
// without a tokenizer, and --json prints {"new_token_ids":[...],"prompt_last_logits":[...]}.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <torch/torch.h>

#include "apps/command.hpp"
#include "core/error.hpp"
#include "data/format/parser.hpp"
#include "data/format/template.hpp"
#include "data/tokenizer.hpp"
#include "model/checkpoint.hpp"
#include "model/engine.hpp"
#include "model/engine_generator.hpp"

namespace autothink::apps {
namespace {

struct GenerateArgs {
  std::string model_dir;
  std::string prompt;
  std::string prompt_ids;
  std::string think_mode = "auto";
  std::string dtype;
  int max_tokens = 256;
  float temperature = 0.7f;
  float top_p = 1.0f;
  int top_k = 0;
  float repetition_penalty = 1.0f;
  uint64_t seed = 0;
  bool greedy = false;
  bool json = false;
};

std::vector<int64_t> parse_ids(const std::string& text) {
  std::vector<int64_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      ids.push_back(std::stoll(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw Error("not a token id: '" + item + "'", "--prompt-ids", "give comma-separated integers, e.g. 3,17,42");
    }
  }
  if (ids.empty()) throw Error("no token ids", "--prompt-ids");
  return ids;
}

void run_generate(const GenerateArgs& a) {
  if (a.prompt.empty() == a.prompt_ids.empty())
    throw Error("give exactly one of --prompt TEXT and --prompt-ids IDS", "autothink generate");
  std::optional<torch::ScalarType> dtype;
  if (!a.dtype.empty()) dtype = model::dtype_from_string(a.dtype);
  auto net = model::load_model(a.model_dir, torch::kCPU, dtype);
  net->eval();

  model::SequenceRequest request;
  request.sampling.temperature = a.greedy ? 0.0f : a.temperature;
  request.sampling.top_p = a.top_p;
  request.sampling.top_k = a.top_k;
  request.sampling.repetition_penalty = a.repetition_penalty;
  request.seed = a.seed;
  request.max_tokens = a.max_tokens;

  const auto tokenizer_path = std::filesystem::path(data::resolve_tokenizer_path(a.model_dir));
  std::optional<data::Tokenizer> tokenizer;
  if (std::filesystem::exists(tokenizer_path)) tokenizer.emplace(tokenizer_path.string());

  std::string prefill;
  if (!a.prompt_ids.empty()) {
    request.prompt = parse_ids(a.prompt_ids);
    // Without the KAT tokenizer, stop where transformers would: at the config's eos ids.
    request.stop_ids = tokenizer ? model::kat_stop_ids(*tokenizer) : net->config().eos_token_ids;
  } else {
    if (!tokenizer)
      throw Error("--prompt needs a tokenizer", tokenizer_path.string(), "use --prompt-ids with a folder that has none");
    format::Conversation conv;
    conv.messages.push_back(format::plain_message("user", a.prompt));
    const auto parsed_mode = format::prompt_mode_from_string(a.think_mode);
    if (!parsed_mode) throw Error("unknown think mode \"" + a.think_mode + "\"", "--think-mode", "use auto, on or off");
    const format::PromptMode mode = *parsed_mode;
    auto ids = tokenizer->encode(format::render_prompt(conv, mode));
    request.prompt.assign(ids.begin(), ids.end());
    request.stop_ids = model::kat_stop_ids(*tokenizer);
    prefill = format::prompt_prefill(mode);
  }

  model::EngineOptions options = tokenizer ? model::make_engine_options(*tokenizer, 1) : model::EngineOptions{};
  options.max_batch = 1;
  options.max_len = std::min<int64_t>(net->config().max_position_embeddings,
                                      static_cast<int64_t>(request.prompt.size()) + a.max_tokens + 1);
  model::Engine engine(net, options);
  auto prompt_ids = request.prompt;
  auto result = engine.generate({std::move(request)}).front();

  if (a.json) {
    nlohmann::json out;
    out["new_token_ids"] = result.tokens;
    if (!a.prompt_ids.empty() || a.json) {
      torch::NoGradGuard no_grad;
      auto ids = torch::tensor(prompt_ids, torch::kLong).unsqueeze(0);
      auto hidden = net->forward_hidden(ids);
      auto last = net->logits(hidden.slice(1, hidden.size(1) - 1)).reshape({-1}).contiguous();
      out["prompt_last_logits"] = std::vector<float>(last.data_ptr<float>(), last.data_ptr<float>() + last.numel());
    }
    if (tokenizer) {
      out["text"] = result.text;
      out["parsed"] = format::to_json(format::parse(prefill + result.text));
    }
    out["finish_reason"] = result.finish_reason;
    std::printf("%s\n", out.dump().c_str());
    return;
  }
  if (!tokenizer) {
    for (size_t i = 0; i < result.tokens.size(); ++i) std::printf("%s%lld", i ? "," : "", (long long)result.tokens[i]);
    std::printf("\n");
    return;
  }
  std::printf("%s%s\n", prefill.c_str(), result.text.c_str());
  auto parsed = format::parse(prefill + result.text);
  std::printf("---\njudge: %s\nmode: %s\nreasoning: %s\nanswer: %s\ncomplete: %s (%zu problems), %zu tokens, finish: %s\n",
              parsed.judge.c_str(), std::string(to_string(parsed.mode)).c_str(), parsed.reasoning.c_str(), parsed.answer.c_str(),
              parsed.complete ? "yes" : "no", parsed.problems.size(), result.tokens.size(), result.finish_reason.c_str());
}

void setup_generate(CLI::App& root) {
  auto a = std::make_shared<GenerateArgs>();
  auto* cmd = root.add_subcommand("generate", "Generate from a model folder: raw text + parsed KAT segments, or token ids");
  cmd->add_option("--model", a->model_dir, "Model folder (config.json + safetensors [+ tokenizer.model])")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--prompt", a->prompt, "User message; rendered with the KAT template (needs tokenizer.model)");
  cmd->add_option("--prompt-ids", a->prompt_ids, "Raw prompt token ids, comma-separated (any HF Qwen2 folder)");
  cmd->add_option("--think-mode", a->think_mode, "auto | on | off (forced modes prefill the assistant turn)")
      ->check(CLI::IsMember({"auto", "on", "off"}))->capture_default_str();
  cmd->add_option("--max-tokens", a->max_tokens, "Most new tokens")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--temperature", a->temperature, "Sampling temperature (0 = greedy)")->capture_default_str();
  cmd->add_option("--top-p", a->top_p, "Nucleus sampling mass")->capture_default_str();
  cmd->add_option("--top-k", a->top_k, "Keep the k most likely tokens (0 = all)")->capture_default_str();
  cmd->add_option("--repetition-penalty", a->repetition_penalty, "> 1 discourages repeats")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Sampling seed (same seed, same output)")->capture_default_str();
  cmd->add_option("--dtype", a->dtype, "float32 | bfloat16 | float16 (default: the checkpoint's)");
  cmd->add_flag("--greedy", a->greedy, "Greedy decoding (temperature 0)");
  cmd->add_flag("--json", a->json, "Print JSON: new_token_ids, prompt_last_logits (f32), and text/parsed with a tokenizer");
  cmd->callback([a]() { run_generate(*a); });
}

}  // namespace
AUTOTHINK_COMMAND(setup_generate, 40);
}  // namespace autothink::apps
