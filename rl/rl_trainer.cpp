// The RL loop: setup (group, tokenizer, prompts, policy, reference, engine, optimizer, resume),
// then per step rollouts → rewards → advantages → clipped-surrogate updates → metrics → checkpoint.
#include "rl/rl_trainer.hpp"

#include <torch/torch.h>

#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <set>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/jsonl.hpp"
#include "core/launcher_env.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "data/tokenizer.hpp"
#include "data/verifier.hpp"
#include "model/checkpoint.hpp"
#include "model/engine.hpp"
#include "model/engine_generator.hpp"
#include "rl/advantages.hpp"
#include "rl/rl_batch.hpp"
#include "rl/rollouts.hpp"
#include "rl/token_roles.hpp"
#include "train/grad_sync.hpp"
#include "train/optimizer.hpp"
#include "train/process_group.hpp"
#include "train/schedule.hpp"
#include "train/train_checkpoint.hpp"

namespace autothink::rl {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double rl_seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Keeps metrics.jsonl lines up to `step` (a resumed run rewrites what came after its checkpoint).
void rl_trim_metrics(const fs::path& path, int64_t step) {
  if (!fs::exists(path)) return;
  std::vector<nlohmann::json> kept;
  core::read_jsonl(path.string(), [&](const nlohmann::json& j, int64_t) {
    if (j.value("step", int64_t{0}) <= step) kept.push_back(j);
  }, core::JsonlOptions{true});
  core::write_jsonl(path.string(), kept);
}

// Named sums reduced over ranks in one collective. The reduction runs over the keys in sorted
// order, so every rank must hold the same key set: declare() them all before adding.
class RlSums {
 public:
  void declare(const std::string& key) { values_.emplace(key, 0.0); }
  double& operator[](const std::string& key) {
    auto it = values_.find(key);
    if (it == values_.end()) throw Error("internal: undeclared RL metric '" + key + "'", "rl_trainer");
    return it->second;
  }
  double get(const std::string& key) const { return values_.at(key); }
  void reduce(train::Distributed& dist) {
    std::vector<double> flat;
    for (auto& [k, v] : values_) flat.push_back(v);
    auto t = torch::tensor(flat, torch::kDouble).to(dist.device());
    dist.all_reduce_sum(t);
    t = t.cpu();
    int64_t i = 0;
    for (auto& [k, v] : values_) v = t[i++].item<double>();
  }

 private:
  std::map<std::string, double> values_;
};

double rl_ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

}  // namespace

RlResult run_rl(const RlConfig& config, const RlRunOptions& options) {
  const RlSection& rc = config.rl;
  RlResult result;
  result.run_dir = !options.out.empty() ? options.out : fs::path(rc.out);
  if (result.run_dir.empty()) throw Error("no run folder", "rl.out", "pass --out RUN_DIR or set rl.out");
  const fs::path run_dir = result.run_dir;
  const std::string model_dir = !options.model.empty() ? options.model : rc.init;
  if (model_dir.empty()) throw Error("no policy model", "rl.init", "pass --model MODEL_DIR or set rl.init");
  const Algorithm algorithm = algorithm_from_string(rc.algorithm);

  core::LaunchEnv env = core::detect_launch_env();
  if (env.is_distributed()) log::set_rank(env.rank);
  train::Distributed dist(env, std::chrono::milliseconds(static_cast<int64_t>(rc.dist_timeout_s * 1000)));
  const torch::Device device = dist.device();
  const bool main = dist.is_main();
  const int64_t world = dist.world_size(), rank = dist.rank();
  result.rank = dist.rank();
  if (dist.is_distributed()) log::info("distributed: ", env.describe(), ", backend ", dist.backend());

  if (main) {
    core::ensure_dir(run_dir.string());
    if (!options.resume && train::latest_checkpoint(run_dir))
      throw Error("the run folder already holds checkpoints", run_dir.string(),
                  "pass --resume to continue it, or choose another --out");
    core::atomic_write_file((run_dir / "config.yaml").string(), config.resolved_yaml + "\n");
  }

  // Tokenizer, prompts, verifiers.
  const std::string tokenizer_path = data::resolve_tokenizer_path(rc.tokenizer.empty() ? model_dir : rc.tokenizer);
  data::Tokenizer tokenizer(tokenizer_path);
  const auto registry = data::VerifierRegistry::with_builtins();
  const std::vector<RlPrompt> prompts = load_rl_prompts(rc.prompts, registry, rc.default_verifier);
  std::set<std::string> difficulty_set;
  for (const auto& p : prompts) difficulty_set.insert(p.difficulty.empty() ? "unknown" : p.difficulty);
  const std::vector<std::string> difficulties(difficulty_set.begin(), difficulty_set.end());
  if (main) log::info("rl: ", prompts.size(), " prompts from ", rc.prompts.size(), " file(s), algorithm ", rc.algorithm);

  // Policy and frozen reference (only with kl_beta > 0).
  auto net = model::load_model(model_dir, device, torch::kFloat);
  if (net->config().vocab_size < tokenizer.vocab_size())
    throw Error("the model's vocabulary is smaller than the tokenizer's", model_dir, "use the model's own tokenizer");
  net->train();
  std::shared_ptr<model::Qwen2Model> reference;
  if (rc.kl_beta > 0) {
    reference = model::load_model(model_dir, device, torch::kFloat);
    reference->eval();
    for (auto& p : reference->parameters()) p.set_requires_grad(false);
  }

  // The engine: KV slots for rollout_batch sequences, as long as the longest prompt + max_tokens.
  int64_t longest_prompt = 0;
  for (const auto& p : prompts)
    longest_prompt = std::max<int64_t>(longest_prompt, static_cast<int64_t>(encode_prompt(tokenizer, p, format::PromptMode::auto_).size()));
  if (rc.forced_per_mode > 0) {
    const auto base = static_cast<int64_t>(encode_prompt(tokenizer, prompts[0], format::PromptMode::auto_).size());
    int64_t extra = 0;
    for (auto mode : {format::PromptMode::on, format::PromptMode::off})
      extra = std::max<int64_t>(extra, static_cast<int64_t>(encode_prompt(tokenizer, prompts[0], mode).size()) - base);
    longest_prompt += extra + 4;
  }
  const int64_t ctx = net->config().max_position_embeddings;
  if (longest_prompt + 1 > ctx)
    throw Error("the longest prompt (" + std::to_string(longest_prompt) + " tokens) does not fit the model's context of " +
                std::to_string(ctx), "rl.prompts");
  const int64_t max_len = std::min<int64_t>(ctx, longest_prompt + rc.max_tokens + 1);
  const int64_t rollouts_per_prompt = rc.group_size + 2 * rc.forced_per_mode;
  const int64_t local_prompts = (rc.prompts_per_step + world - 1) / world;
  const int64_t slots = std::max<int64_t>(1, std::min<int64_t>(rc.rollout_batch, local_prompts * rollouts_per_prompt));
  model::Engine engine(net, model::make_engine_options(tokenizer, slots, max_len));
  const int max_tokens = static_cast<int>(std::min<int64_t>(rc.max_tokens, max_len - longest_prompt));

  RolloutOptions ro;
  ro.group_size = rc.group_size;
  ro.forced_per_mode = rc.forced_per_mode;
  ro.sampling.temperature = static_cast<float>(rc.temperature);
  ro.sampling.top_p = static_cast<float>(rc.top_p);
  ro.sampling.top_k = static_cast<int>(rc.top_k);
  ro.max_tokens = max_tokens;
  ro.seed = static_cast<uint64_t>(rc.seed);
  ro.default_verifier = rc.default_verifier;
  RewardOptions rw{rc.reward_correct, rc.reward_format, rc.reward_mode, rc.token_cost, max_tokens, rc.mode_margin};
  PolicyLossOptions lo;
  lo.eps_low = rc.eps_low;
  lo.eps_high = rc.eps_high;
  lo.kl_beta = rc.kl_beta;
  lo.aggregation = aggregation_from_string(rc.aggregation);
  lo.max_tokens = max_tokens;
  const FormatTokenIds role_ids = FormatTokenIds::from(tokenizer);

  // Optimizer (updates = steps × epochs × minibatches), resume, parameter broadcast.
  std::vector<torch::Tensor> params = net->parameters();
  auto optimizer = train::make_adamw(params, {rc.lr, rc.weight_decay, rc.beta1, rc.beta2, rc.eps});
  const int64_t updates_per_step = rc.epochs * rc.minibatches;
  train::LrSchedule schedule{rc.lr, rc.min_lr, rc.warmup, rc.steps * updates_per_step};
  int64_t start_step = 0, tokens_total = 0;
  if (options.resume) {
    if (auto ckpt = train::latest_checkpoint(run_dir)) {
      train::TrainerState st = train::load_checkpoint(*ckpt, *net, *optimizer);
      start_step = st.step;
      tokens_total = st.tokens;
      log::info("resumed from ", ckpt->string(), " at step ", st.step);
    } else {
      log::warn("--resume: no checkpoint in ", run_dir.string(), "; starting from step 0");
    }
  }
  dist.broadcast_parameters(params);
  train::GradientSync sync(dist, params, train::GradSyncOptions{rc.bucket_mb, true});

  model::SaveOptions save_options;
  save_options.tokenizer_model = tokenizer_path;
  save_options.autothink = model::load_autothink_json(model_dir);
  if (!save_options.autothink.is_object()) save_options.autothink = nlohmann::json::object();
  save_options.autothink["stage"] = "rl";
  save_options.autothink["special_token_ids"] = nlohmann::json::object();
  for (int i = 0; i < format::kSpecialCount; ++i)
    save_options.autothink["special_token_ids"][std::string(format::kSpecialLiterals[i])] =
        tokenizer.special_id(static_cast<format::Special>(i));
  save_options.autothink["rl"] = {{"algorithm", rc.algorithm}, {"steps", rc.steps}, {"init", model_dir}, {"seed", rc.seed}};

  const fs::path metrics_path = run_dir / "metrics.jsonl";
  if (main) {
    if (options.resume) rl_trim_metrics(metrics_path, start_step);
    else fs::remove(metrics_path);
  }
  std::unique_ptr<core::JsonlWriter> metrics;
  if (main) metrics = std::make_unique<core::JsonlWriter>(metrics_path.string(), core::JsonlWriter::Mode::append);

  core::ProgressOptions progress_options;
  progress_options.enabled = main && options.progress;
  core::Progress progress("rl " + rc.algorithm, rc.steps, "step", progress_options);
  const int64_t end_step = rc.stop_at > 0 ? std::min(rc.stop_at, rc.steps) : rc.steps;
  const bool need_old = updates_per_step > 1;
  const int64_t pad = tokenizer.pad_id();

  for (int64_t step = start_step; step < end_step; ++step) {
    const auto t_step = Clock::now();
    // 1-2. This rank's prompts (global slots j with j % world == rank) and their rollouts.
    std::vector<PromptSlot> mine;
    for (int64_t j = rank; j < rc.prompts_per_step; j += world)
      mine.push_back({j, &prompts[prompt_index_at(static_cast<int64_t>(prompts.size()), step, j, rc.prompts_per_step,
                                                  static_cast<uint64_t>(rc.seed))]});
    std::vector<RolloutGroup> groups;
    {
      torch::NoGradGuard no_grad;
      groups = run_rollouts(engine, tokenizer, registry, mine, step, ro);
    }
    const double rollout_s = rl_seconds_since(t_step);

    // 3. Rewards, advantages, training sequences; rollout metrics.
    RlSums sums;
    for (const char* k : {"generated", "n", "reward", "reward_correct", "reward_format", "reward_mode", "reward_tokens",
                          "correct", "format_ok", "tokens", "on", "off", "tokens_on", "tokens_off", "correct_on",
                          "correct_off", "forced_on", "forced_on_correct", "forced_off", "forced_off_correct",
                          "loss_tokens", "clipped", "kl", "ratio", "entropy", "entropy_tokens"})
      sums.declare(k);
    for (const auto& d : difficulties)
      for (const char* k : {"n_", "on_", "correct_"}) sums.declare(k + d);
    for (int64_t u = 0; u < updates_per_step; ++u) sums.declare("loss_u" + std::to_string(u));
    std::vector<RlSequence> sequences;
    std::vector<int64_t> seq_minibatch;
    for (const auto& g : groups) {
      std::vector<Outcome> outcomes;
      std::vector<bool> trained;
      for (const auto& r : g.rollouts) {
        outcomes.push_back(r.outcome);
        trained.push_back(r.prompt_mode == format::PromptMode::auto_ || rc.train_forced);
      }
      auto rewards = group_rewards(outcomes, rw);
      auto adv = group_advantages(outcomes, rewards, trained, algorithm, rc.std_floor);
      const int64_t minibatch = g.slot * rc.minibatches / rc.prompts_per_step;
      const std::string diff = g.prompt->difficulty.empty() ? "unknown" : g.prompt->difficulty;
      for (size_t i = 0; i < g.rollouts.size(); ++i) {
        const auto& r = g.rollouts[i];
        const auto& o = outcomes[i];
        const double n_tok = static_cast<double>(r.tokens.size());
        sums["generated"] += n_tok;
        if (r.prompt_mode == format::PromptMode::auto_) {
          sums["n"] += 1;
          sums["reward"] += rewards[i].total;
          sums["reward_correct"] += rewards[i].correct;
          sums["reward_format"] += rewards[i].format;
          sums["reward_mode"] += rewards[i].mode;
          sums["reward_tokens"] += rewards[i].tokens;
          sums["correct"] += o.correct;
          sums["format_ok"] += o.format_ok;
          sums["tokens"] += n_tok;
          sums["on"] += o.mode == "on";
          sums["off"] += o.mode == "off";
          sums["tokens_on"] += o.mode == "on" ? n_tok : 0;
          sums["tokens_off"] += o.mode == "off" ? n_tok : 0;
          sums["correct_on"] += o.mode == "on" && o.correct;
          sums["correct_off"] += o.mode == "off" && o.correct;
        } else {
          const std::string m = r.prompt_mode == format::PromptMode::on ? "forced_on" : "forced_off";
          sums[m] += 1;
          sums[m + "_correct"] += o.correct;
        }
        if (trained[i] && !r.tokens.empty()) {
          RlSequence s;
          s.prompt_len = static_cast<int64_t>(r.prompt.size());
          s.ids = r.prompt;
          s.ids.insert(s.ids.end(), r.tokens.begin(), r.tokens.end());
          s.advantages = token_advantages(token_roles(r.tokens, role_ids, r.prompt_mode), adv[i]);
          sequences.push_back(std::move(s));
          seq_minibatch.push_back(minibatch);
        }
      }
    }
    // Per-difficulty think-on rate and accuracy.
    for (const auto& g : groups) {
      const std::string d = g.prompt->difficulty.empty() ? "unknown" : g.prompt->difficulty;
      for (const auto& r : g.rollouts)
        if (r.prompt_mode == format::PromptMode::auto_) {
          sums["n_" + d] += 1;
          sums["on_" + d] += r.outcome.mode == "on";
          sums["correct_" + d] += r.outcome.correct;
        }
    }

    // Global counts of every minibatch (the loss normalisers) and the micro-batches.
    std::vector<double> counts(2 * rc.minibatches, 0.0);
    for (size_t i = 0; i < sequences.size(); ++i) {
      counts[2 * seq_minibatch[i]] += static_cast<double>(sequences[i].advantages.size());
      counts[2 * seq_minibatch[i] + 1] += 1;
    }
    {
      auto t = torch::tensor(counts, torch::kDouble).to(device);
      dist.all_reduce_sum(t);
      t = t.cpu();
      for (size_t i = 0; i < counts.size(); ++i) counts[i] = t[static_cast<int64_t>(i)].item<double>();
    }
    std::vector<std::vector<RlMicroBatch>> micro(rc.minibatches);
    for (int64_t k = 0; k < rc.minibatches; ++k) {
      std::vector<const RlSequence*> chunk;
      for (size_t i = 0; i <= sequences.size(); ++i) {
        const bool flush = i == sequences.size() || static_cast<int64_t>(chunk.size()) == rc.micro_batch;
        if (flush && !chunk.empty()) {
          micro[k].push_back(make_micro_batch(chunk, pad, device));
          chunk.clear();
        }
        if (i < sequences.size() && seq_minibatch[i] == k) chunk.push_back(&sequences[i]);
      }
    }

    // 4. Old (rollout policy) and reference log-probs, without grad.
    if (need_old || reference) {
      torch::NoGradGuard no_grad;
      for (auto& mb : micro)
        for (auto& b : mb) {
          if (need_old) b.old_logp = micro_logprobs(*net, b, false).logp;
          if (reference) b.ref_logp = micro_logprobs(*reference, b, false).logp;
        }
    }

    // 5. Updates.
    const auto t_update = Clock::now();
    std::vector<double> update_loss(updates_per_step, 0.0);
    double grad_norm = 0, lr = 0;
    int64_t update = 0;
    for (int64_t epoch = 0; epoch < rc.epochs; ++epoch) {
      for (int64_t k = 0; k < rc.minibatches; ++k, ++update) {
        lr = schedule.lr_at(step * updates_per_step + update);
        train::set_learning_rate(*optimizer, lr);
        optimizer->zero_grad();
        const LossNormaliser norm{counts[2 * k], counts[2 * k + 1]};
        for (size_t m = 0; m < micro[k].size(); ++m) {
          auto& b = micro[k][m];
          if (m + 1 == micro[k].size()) sync.prepare();
          const bool first_pass = epoch == 0;
          auto lp = micro_logprobs(*net, b, first_pass);
          auto old = need_old ? b.old_logp : lp.logp.detach();
          auto out = policy_loss(lp.logp, old, b.ref_logp, b.advantages, b.mask, lo, norm);
          (out.loss * static_cast<double>(world)).backward();
          update_loss[update] += out.loss.item<double>();
          sums["loss_tokens"] += out.tokens;
          sums["clipped"] += out.clipped;
          sums["kl"] += out.kl;
          sums["ratio"] += out.ratio;
          if (first_pass) {
            sums["entropy"] += (lp.entropy * b.mask).sum().item<double>();
            sums["entropy_tokens"] += out.tokens;
          }
        }
        sync.finish();
        const double max_norm = rc.clip > 0 ? rc.clip : std::numeric_limits<double>::infinity();
        grad_norm = torch::nn::utils::clip_grad_norm_(params, max_norm);
        optimizer->step();
      }
    }
    const double update_s = rl_seconds_since(t_update);
    for (int64_t u = 0; u < updates_per_step; ++u) sums["loss_u" + std::to_string(u)] += update_loss[u];
    sums.reduce(dist);

    // 6. Metrics.
    double loss_mean = 0;
    for (int64_t u = 0; u < updates_per_step; ++u) loss_mean += sums.get("loss_u" + std::to_string(u));
    loss_mean /= static_cast<double>(updates_per_step);
    const double n = sums.get("n");
    tokens_total += static_cast<int64_t>(sums.get("generated"));
    nlohmann::json line = {{"step", step + 1},
                           {"loss", loss_mean},
                           {"loss_first", sums.get("loss_u0")},
                           {"reward", rl_ratio(sums.get("reward"), n)},
                           {"reward_correct", rl_ratio(sums.get("reward_correct"), n)},
                           {"reward_format", rl_ratio(sums.get("reward_format"), n)},
                           {"reward_mode", rl_ratio(sums.get("reward_mode"), n)},
                           {"reward_tokens", rl_ratio(sums.get("reward_tokens"), n)},
                           {"accuracy", rl_ratio(sums.get("correct"), n)},
                           {"format_rate", rl_ratio(sums.get("format_ok"), n)},
                           {"think_on_rate", rl_ratio(sums.get("on"), n)},
                           {"think_off_rate", rl_ratio(sums.get("off"), n)},
                           {"tokens_mean", rl_ratio(sums.get("tokens"), n)},
                           {"tokens_on", rl_ratio(sums.get("tokens_on"), sums.get("on"))},
                           {"tokens_off", rl_ratio(sums.get("tokens_off"), sums.get("off"))},
                           {"accuracy_on", rl_ratio(sums.get("correct_on"), sums.get("on"))},
                           {"accuracy_off", rl_ratio(sums.get("correct_off"), sums.get("off"))},
                           {"kl", rl_ratio(sums.get("kl"), sums.get("loss_tokens"))},
                           {"clip_frac", rl_ratio(sums.get("clipped"), sums.get("loss_tokens"))},
                           {"ratio_mean", rl_ratio(sums.get("ratio"), sums.get("loss_tokens"))},
                           {"entropy", rl_ratio(sums.get("entropy"), sums.get("entropy_tokens"))},
                           {"grad_norm", grad_norm},
                           {"lr", lr},
                           {"rollout_tokens", static_cast<int64_t>(sums.get("generated"))},
                           {"tokens_total", tokens_total},
                           {"rollout_s", rollout_s},
                           {"update_s", update_s}};
    for (const auto& d : difficulties) {
      line["think_on_rate_" + d] = rl_ratio(sums.get("on_" + d), sums.get("n_" + d));
      line["accuracy_" + d] = rl_ratio(sums.get("correct_" + d), sums.get("n_" + d));
    }
    if (rc.forced_per_mode > 0) {
      line["forced_accuracy_on"] = rl_ratio(sums.get("forced_on_correct"), sums.get("forced_on"));
      line["forced_accuracy_off"] = rl_ratio(sums.get("forced_off_correct"), sums.get("forced_off"));
    }
    result.last_loss = loss_mean;
    result.last_reward = line["reward"].get<double>();
    result.steps_done = step + 1;
    const bool last = step + 1 == rc.steps;
    if (main && ((step + 1) % std::max<int64_t>(rc.log_every, 1) == 0 || last || step + 1 == end_step)) {
      metrics->write(line);
      metrics->flush();
    }
    progress.update(step + 1, {{"reward", result.last_reward}, {"acc", line["accuracy"].get<double>()},
                               {"on", line["think_on_rate"].get<double>()}, {"loss", loss_mean}},
                    {{"tok", tokens_total}});

    const bool stop_here = step + 1 == end_step && end_step < rc.steps;
    if ((rc.save_every > 0 && (step + 1) % rc.save_every == 0) || stop_here) {
      if (main) {
        auto path = train::save_checkpoint(run_dir, *net, *optimizer, {step + 1, {}, tokens_total}, save_options, rc.keep);
        log::info("checkpoint ", path.string());
      }
      dist.barrier();
    }
  }

  if (end_step < rc.steps) {
    result.stopped = true;
    progress.finish({{"reward", result.last_reward}, {"stopped_at", end_step}});
    dist.barrier();
    return result;
  }
  progress.finish({{"reward", result.last_reward}, {"loss", result.last_loss}});
  result.model_dir = run_dir / "model";
  if (main) {
    model::save_model(*net, result.model_dir, save_options);
    log::info("model written to ", result.model_dir.string());
  }
  dist.barrier();
  return result;
}

}  // namespace autothink::rl
