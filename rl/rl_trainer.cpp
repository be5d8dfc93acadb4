// The RL loop: RlTrainer::Parts (group, run folder, tokenizer, prompts, policy, reference,
// engine, optimizer, resume), then per step collect_rollouts → score (rewards, advantages,
// sequences) → update (clipped-surrogate AdamW steps) → the metrics line → checkpoint.
#include "rl/rl_trainer.hpp"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <set>

#include "core/error.hpp"
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
#include "rl/step_sums.hpp"
#include "rl/token_roles.hpp"
#include "train/grad_sync.hpp"
#include "train/optimizer.hpp"
#include "train/process_group.hpp"
#include "train/run_folder.hpp"
#include "train/schedule.hpp"

namespace autothink::rl {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double rl_seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

fs::path rl_run_dir(const RlRunOptions& options, const RlSection& rc) {
  fs::path dir = !options.out.empty() ? options.out : fs::path(rc.out);
  if (dir.empty()) throw Error("no run folder", "rl.out", "pass --out RUN_DIR or set rl.out");
  return dir;
}

std::string rl_model_dir(const RlRunOptions& options, const RlSection& rc) {
  std::string dir = !options.model.empty() ? options.model : rc.init;
  if (dir.empty()) throw Error("no policy model", "rl.init", "pass --model MODEL_DIR or set rl.init");
  return dir;
}

core::LaunchEnv rl_launch_env() {
  core::LaunchEnv env = core::detect_launch_env();
  if (env.is_distributed()) log::set_rank(env.rank);
  return env;
}

// The sorted difficulties of the prompts (the per-difficulty metrics).
std::vector<std::string> rl_difficulties(const std::vector<RlPrompt>& prompts) {
  std::set<std::string> set;
  for (const auto& p : prompts) set.insert(p.difficulty);
  return {set.begin(), set.end()};
}

// The longest encoded prompt, with room for the forced modes' prefills when they are rolled out.
int64_t rl_longest_prompt(const data::Tokenizer& tokenizer, const std::vector<RlPrompt>& prompts, int64_t forced_per_mode) {
  int64_t longest = 0;
  for (const auto& p : prompts)
    longest = std::max<int64_t>(longest, static_cast<int64_t>(encode_prompt(tokenizer, p, format::PromptMode::automatic).size()));
  if (forced_per_mode > 0) {
    const auto base = static_cast<int64_t>(encode_prompt(tokenizer, prompts[0], format::PromptMode::automatic).size());
    int64_t extra = 0;
    for (auto mode : {format::PromptMode::on, format::PromptMode::off})
      extra = std::max<int64_t>(extra, static_cast<int64_t>(encode_prompt(tokenizer, prompts[0], mode).size()) - base);
    longest += extra + 4;
  }
  return longest;
}

}  // namespace

struct RlTrainer::Parts {
  const RlConfig config;
  const RlSection& rc = config.rl;
  const RlRunOptions options;
  const fs::path run_dir;
  const std::string model_dir;
  const Algorithm algorithm;
  const core::LaunchEnv env;
  train::Distributed dist;
  const torch::Device device;
  const int64_t world, rank;
  train::RunFolder folder;
  const std::string tokenizer_path;
  data::Tokenizer tokenizer;
  const data::VerifierRegistry registry;
  const std::vector<RlPrompt> prompts;
  const std::vector<std::string> difficulties;
  std::shared_ptr<model::Qwen2Model> net;
  std::shared_ptr<model::Qwen2Model> reference;  // frozen, only with kl_beta > 0
  std::optional<model::Engine> engine;
  RolloutOptions rollout_options;
  RewardOptions reward_options;
  PolicyLossOptions loss_options;
  FormatTokenIds role_ids;
  std::vector<torch::Tensor> params;
  std::unique_ptr<torch::optim::AdamW> optimizer;
  const int64_t updates_per_step;
  train::LrSchedule schedule;
  std::optional<train::GradientSync> sync;
  model::SaveOptions save_options;
  const train::StepPlan plan;
  int64_t start_step = 0, tokens_total = 0;

  Parts(const RlConfig& c, const RlRunOptions& o)
      : config(c),
        options(o),
        run_dir(rl_run_dir(options, rc)),
        model_dir(rl_model_dir(options, rc)),
        algorithm(rc.algorithm),
        env(rl_launch_env()),
        dist(env, std::chrono::milliseconds(static_cast<int64_t>(rc.run.dist_timeout_s * 1000))),
        device(dist.device()),
        world(dist.world_size()),
        rank(dist.rank()),
        folder(run_dir, dist, options.resume, config.resolved_yaml),
        tokenizer_path(data::resolve_tokenizer_path(rc.tokenizer.empty() ? model_dir : rc.tokenizer)),
        tokenizer(tokenizer_path),
        registry(data::VerifierRegistry::with_builtins()),
        prompts(load_rl_prompts(rc.prompts, registry, rc.default_verifier)),
        difficulties(rl_difficulties(prompts)),
        updates_per_step(rc.epochs * rc.minibatches),
        plan(train::StepPlan::make(rc.steps, options.stop_after, rc.run.save_every)) {
    if (dist.is_distributed()) log::info("distributed: ", env.describe(), ", backend ", dist.backend());
    if (dist.is_main()) log::info("rl: ", prompts.size(), " prompts from ", rc.prompts.size(), " file(s), algorithm ", core::enum_name(rc.algorithm));
    build_models();
    build_engine();
    build_optimizer();
    if (auto state = folder.resume(*net, *optimizer)) {
      start_step = state->step;
      tokens_total = state->tokens;
    }
    dist.broadcast_parameters(params);
    sync.emplace(dist, params, train::GradSyncOptions{rc.run.bucket_mb, true});

    save_options.tokenizer_model = tokenizer_path;
    save_options.autothink = model::load_autothink_json(model_dir);
    if (!save_options.autothink.is_object()) save_options.autothink = nlohmann::json::object();
    save_options.autothink["stage"] = "rl";
    save_options.autothink["special_token_ids"] = train::special_token_ids(tokenizer);
    save_options.autothink["rl"] = {{"algorithm", core::enum_name(rc.algorithm)}, {"steps", rc.steps}, {"init", model_dir}, {"seed", rc.seed}};
    folder.open_metrics(start_step);
  }

  // The policy and, with kl_beta > 0, the frozen reference (both from the policy folder).
  void build_models() {
    net = model::load_model(model_dir, device, torch::kFloat);
    if (net->config().vocab_size < tokenizer.vocab_size())
      throw Error("the model's vocabulary is smaller than the tokenizer's", model_dir, "use the model's own tokenizer");
    net->train();
    if (rc.kl_beta > 0) {
      reference = model::load_model(model_dir, device, torch::kFloat);
      reference->eval();
      for (auto& p : reference->parameters()) p.set_requires_grad(false);
    }
  }

  // The engine: KV slots for rollout_batch sequences, as long as the longest prompt + max_tokens;
  // and the rollout, reward and loss options that depend on the tokens that fit.
  void build_engine() {
    const int64_t longest_prompt = rl_longest_prompt(tokenizer, prompts, rc.forced_per_mode);
    const int64_t ctx = net->config().max_position_embeddings;
    if (longest_prompt + 1 > ctx)
      throw Error("the longest prompt (" + std::to_string(longest_prompt) + " tokens) does not fit the model's context of " +
                  std::to_string(ctx), "rl.prompts");
    const int64_t max_len = std::min<int64_t>(ctx, longest_prompt + rc.max_tokens + 1);
    const int64_t rollouts_per_prompt = rc.group_size + 2 * rc.forced_per_mode;
    const int64_t local_prompts = (rc.prompts_per_step + world - 1) / world;
    const int64_t slots = std::max<int64_t>(1, std::min<int64_t>(rc.rollout_batch, local_prompts * rollouts_per_prompt));
    engine.emplace(net, model::make_engine_options(tokenizer, slots, max_len));
    const int max_tokens = static_cast<int>(std::min<int64_t>(rc.max_tokens, max_len - longest_prompt));

    rollout_options.group_size = rc.group_size;
    rollout_options.forced_per_mode = rc.forced_per_mode;
    rollout_options.sampling.temperature = static_cast<float>(rc.temperature);
    rollout_options.sampling.top_p = static_cast<float>(rc.top_p);
    rollout_options.sampling.top_k = static_cast<int>(rc.top_k);
    rollout_options.max_tokens = max_tokens;
    rollout_options.seed = static_cast<uint64_t>(rc.seed);
    rollout_options.default_verifier = rc.default_verifier;
    reward_options = {rc.reward_correct, rc.reward_format, rc.reward_mode, rc.token_cost, max_tokens, rc.mode_margin};
    loss_options.eps_low = rc.eps_low;
    loss_options.eps_high = rc.eps_high;
    loss_options.kl_beta = rc.kl_beta;
    loss_options.aggregation = rc.aggregation;
    loss_options.max_tokens = max_tokens;
    role_ids = FormatTokenIds::from(tokenizer);
  }

  // AdamW over steps × epochs × minibatches updates.
  void build_optimizer() {
    params = net->parameters();
    optimizer = train::make_adamw(params, rc.optimizer.adamw());
    schedule = train::LrSchedule{rc.optimizer.lr, rc.optimizer.min_lr, rc.optimizer.warmup, rc.steps * updates_per_step};
  }
};

// The training sequences of one step: each with its minibatch, the minibatches' micro-batches,
// and the global (all-rank) token and sequence counts of every minibatch, the loss normalisers.
struct RlTrainer::StepData {
  std::vector<RlSequence> sequences;
  std::vector<int64_t> seq_minibatch;
  std::vector<double> counts;  // [2k] tokens, [2k+1] sequences of minibatch k
  std::vector<std::vector<RlMicroBatch>> micro;
};

RlTrainer::RlTrainer(const RlConfig& config, const RlRunOptions& options)
    : parts_(std::make_unique<Parts>(config, options)) {}

RlTrainer::~RlTrainer() = default;

std::vector<RolloutGroup> RlTrainer::collect_rollouts(int64_t step) {
  Parts& p = *parts_;
  // Global slots j with j % world == rank.
  std::vector<PromptSlot> mine;
  for (int64_t j = p.rank; j < p.rc.prompts_per_step; j += p.world)
    mine.push_back({j, &p.prompts[prompt_index_at(static_cast<int64_t>(p.prompts.size()), step, j, p.rc.prompts_per_step,
                                                  static_cast<uint64_t>(p.rc.seed))]});
  torch::NoGradGuard no_grad;
  return run_rollouts(*p.engine, p.tokenizer, p.registry, mine, step, p.rollout_options);
}

RlTrainer::StepData RlTrainer::score(const std::vector<RolloutGroup>& groups, StepSums& sums) {
  Parts& p = *parts_;
  const RlSection& rc = p.rc;
  StepData data;
  for (const auto& g : groups) {
    std::vector<Outcome> outcomes;
    std::vector<bool> trained;
    for (const auto& r : g.rollouts) {
      outcomes.push_back(r.outcome);
      trained.push_back(r.prompt_mode == format::PromptMode::automatic || rc.train_forced);
    }
    auto rewards = group_rewards(outcomes, p.reward_options);
    auto adv = group_advantages(outcomes, rewards, trained,
                                {p.algorithm, rc.std_floor, rc.decision_baseline, rc.reward_mode > 0});
    const int64_t minibatch = g.slot * rc.minibatches / rc.prompts_per_step;
    const std::string& d = g.prompt->difficulty;
    // The group's mode mix: whether its auto rollouts tried both modes (else the mode reward has
    // no contrast among them), for the judge-signal analysis of DESIGN §5.
    bool auto_on = false, auto_off = false;
    for (const auto& o : outcomes)
      if (o.prompt_mode == format::PromptMode::automatic) {
        auto_on |= o.mode == format::ThinkMode::on;
        auto_off |= o.mode == format::ThinkMode::off;
      }
    sums["groups"] += 1;
    sums["groups_" + d] += 1;
    sums["mixed"] += auto_on && auto_off;
    sums["mixed_" + d] += auto_on && auto_off;
    for (size_t i = 0; i < g.rollouts.size(); ++i) {
      const auto& r = g.rollouts[i];
      const auto& o = outcomes[i];
      const double n_tok = static_cast<double>(r.tokens.size());
      sums["generated"] += n_tok;
      if (r.prompt_mode == format::PromptMode::automatic) {
        sums["n"] += 1;
        sums["reward"] += rewards[i].total;
        sums["reward_correct"] += rewards[i].correct;
        sums["reward_format"] += rewards[i].format;
        sums["reward_mode"] += rewards[i].mode;
        sums["reward_tokens"] += rewards[i].tokens;
        sums["correct"] += o.correct;
        sums["format_ok"] += o.format_ok;
        sums["tokens"] += n_tok;
        const bool on = o.mode == format::ThinkMode::on, off = o.mode == format::ThinkMode::off;
        sums["on"] += on;
        sums["off"] += off;
        sums["tokens_on"] += on ? n_tok : 0;
        sums["tokens_off"] += off ? n_tok : 0;
        sums["correct_on"] += on && o.correct;
        sums["correct_off"] += off && o.correct;
        sums["n_" + d] += 1;
        sums["on_" + d] += on;
        sums["correct_" + d] += o.correct;
        // Judge accuracy: the mode chosen against the group's verdict (no verdict: not judged).
        const bool judged = rewards[i].mode_score != 0.5;
        sums["judged"] += judged;
        sums["judge_right"] += judged && rewards[i].mode_score == 1.0;
        sums["judged_" + d] += judged;
        sums["judge_right_" + d] += judged && rewards[i].mode_score == 1.0;
        sums["decision_adv_abs"] += std::abs(adv[i].decision);
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
        s.advantages = token_advantages(token_roles(r.tokens, p.role_ids, r.prompt_mode), adv[i]);
        data.sequences.push_back(std::move(s));
        data.seq_minibatch.push_back(minibatch);
      }
    }
  }

  data.counts.assign(2 * rc.minibatches, 0.0);
  for (size_t i = 0; i < data.sequences.size(); ++i) {
    data.counts[2 * data.seq_minibatch[i]] += static_cast<double>(data.sequences[i].advantages.size());
    data.counts[2 * data.seq_minibatch[i] + 1] += 1;
  }
  {
    auto t = torch::tensor(data.counts, torch::kDouble).to(p.device);
    p.dist.all_reduce_sum(t);
    t = t.cpu();
    for (size_t i = 0; i < data.counts.size(); ++i) data.counts[i] = t[static_cast<int64_t>(i)].item<double>();
  }
  data.micro.resize(rc.minibatches);
  for (int64_t k = 0; k < rc.minibatches; ++k) {
    std::vector<const RlSequence*> chunk;
    for (size_t i = 0; i <= data.sequences.size(); ++i) {
      const bool flush = i == data.sequences.size() || static_cast<int64_t>(chunk.size()) == rc.micro_batch;
      if (flush && !chunk.empty()) {
        data.micro[k].push_back(make_micro_batch(chunk, p.tokenizer.pad_id(), p.device));
        chunk.clear();
      }
      if (i < data.sequences.size() && data.seq_minibatch[i] == k) chunk.push_back(&data.sequences[i]);
    }
  }
  return data;
}

double RlTrainer::update(int64_t step, StepData& data, StepSums& sums, double& lr) {
  Parts& p = *parts_;
  const RlSection& rc = p.rc;
  // With one epoch and one minibatch the update's own forward is the rollout policy: its
  // detached log-probs serve as the old ones.
  const bool need_old = p.updates_per_step > 1;
  if (need_old || p.reference) {
    torch::NoGradGuard no_grad;
    for (auto& mb : data.micro)
      for (auto& b : mb) {
        if (need_old) b.old_logp = micro_logprobs(*p.net, b, false).logp;
        if (p.reference) b.ref_logp = micro_logprobs(*p.reference, b, false).logp;
      }
  }

  std::vector<double> update_loss(p.updates_per_step, 0.0);
  double grad_norm = 0;
  int64_t update = 0;
  for (int64_t epoch = 0; epoch < rc.epochs; ++epoch) {
    for (int64_t k = 0; k < rc.minibatches; ++k, ++update) {
      lr = p.schedule.lr_at(step * p.updates_per_step + update);
      train::set_learning_rate(*p.optimizer, lr);
      p.optimizer->zero_grad();
      const LossNormaliser norm{data.counts[2 * k], data.counts[2 * k + 1]};
      for (size_t m = 0; m < data.micro[k].size(); ++m) {
        auto& b = data.micro[k][m];
        if (m + 1 == data.micro[k].size()) p.sync->prepare();
        const bool first_pass = epoch == 0;
        auto lp = micro_logprobs(*p.net, b, first_pass);
        auto old = need_old ? b.old_logp : lp.logp.detach();
        auto out = policy_loss(lp.logp, old, b.ref_logp, b.advantages, b.mask, p.loss_options, norm);
        // GradientSync averages over ranks; scaling by world turns that mean into the global sum.
        (out.loss * static_cast<double>(p.world)).backward();
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
      p.sync->finish();
      const double max_norm = rc.optimizer.clip > 0 ? rc.optimizer.clip : std::numeric_limits<double>::infinity();
      grad_norm = torch::nn::utils::clip_grad_norm_(p.params, max_norm);
      p.optimizer->step();
    }
  }
  for (int64_t u = 0; u < p.updates_per_step; ++u) sums["loss_u" + std::to_string(u)] += update_loss[u];
  return grad_norm;
}

nlohmann::json RlTrainer::train_step(int64_t step) {
  Parts& p = *parts_;
  const auto t_step = Clock::now();
  const std::vector<RolloutGroup> groups = collect_rollouts(step);
  const double rollout_s = rl_seconds_since(t_step);

  StepSums sums;
  for (const char* k : {"generated", "n", "reward", "reward_correct", "reward_format", "reward_mode", "reward_tokens",
                        "correct", "format_ok", "tokens", "on", "off", "tokens_on", "tokens_off", "correct_on",
                        "correct_off", "forced_on", "forced_on_correct", "forced_off", "forced_off_correct",
                        "loss_tokens", "clipped", "kl", "ratio", "entropy", "entropy_tokens", "groups", "mixed",
                        "judged", "judge_right", "decision_adv_abs"})
    sums.declare(k);
  for (const auto& d : p.difficulties)
    for (const char* k : {"n_", "on_", "correct_", "groups_", "mixed_", "judged_", "judge_right_"}) sums.declare(k + d);
  for (int64_t u = 0; u < p.updates_per_step; ++u) sums.declare("loss_u" + std::to_string(u));

  StepData data = score(groups, sums);
  const auto t_update = Clock::now();
  double lr = 0;
  const double grad_norm = update(step, data, sums, lr);
  const double update_s = rl_seconds_since(t_update);
  sums.reduce(p.dist);

  double loss_mean = 0;
  for (int64_t u = 0; u < p.updates_per_step; ++u) loss_mean += sums.get("loss_u" + std::to_string(u));
  loss_mean /= static_cast<double>(p.updates_per_step);
  p.tokens_total += static_cast<int64_t>(sums.get("generated"));
  nlohmann::json line = {{"step", step + 1},
                         {"loss", loss_mean},
                         {"loss_first", sums.get("loss_u0")},
                         {"reward", sums.ratio("reward", "n")},
                         {"reward_correct", sums.ratio("reward_correct", "n")},
                         {"reward_format", sums.ratio("reward_format", "n")},
                         {"reward_mode", sums.ratio("reward_mode", "n")},
                         {"reward_tokens", sums.ratio("reward_tokens", "n")},
                         {"accuracy", sums.ratio("correct", "n")},
                         {"format_rate", sums.ratio("format_ok", "n")},
                         {"think_on_rate", sums.ratio("on", "n")},
                         {"think_off_rate", sums.ratio("off", "n")},
                         {"tokens_mean", sums.ratio("tokens", "n")},
                         {"tokens_on", sums.ratio("tokens_on", "on")},
                         {"tokens_off", sums.ratio("tokens_off", "off")},
                         {"accuracy_on", sums.ratio("correct_on", "on")},
                         {"accuracy_off", sums.ratio("correct_off", "off")},
                         {"judge_accuracy", sums.ratio("judge_right", "judged")},
                         {"judged_rate", sums.ratio("judged", "n")},
                         {"mixed_group_rate", sums.ratio("mixed", "groups")},
                         {"decision_adv_abs", sums.ratio("decision_adv_abs", "n")},
                         {"kl", sums.ratio("kl", "loss_tokens")},
                         {"clip_frac", sums.ratio("clipped", "loss_tokens")},
                         {"ratio_mean", sums.ratio("ratio", "loss_tokens")},
                         {"entropy", sums.ratio("entropy", "entropy_tokens")},
                         {"grad_norm", grad_norm},
                         {"lr", lr},
                         {"rollout_tokens", static_cast<int64_t>(sums.get("generated"))},
                         {"tokens_total", p.tokens_total},
                         {"rollout_s", rollout_s},
                         {"update_s", update_s}};
  for (const auto& d : p.difficulties) {
    line["think_on_rate_" + d] = sums.ratio("on_" + d, "n_" + d);
    line["accuracy_" + d] = sums.ratio("correct_" + d, "n_" + d);
    line["judge_accuracy_" + d] = sums.ratio("judge_right_" + d, "judged_" + d);
    line["mixed_group_rate_" + d] = sums.ratio("mixed_" + d, "groups_" + d);
  }
  if (p.rc.forced_per_mode > 0) {
    line["forced_accuracy_on"] = sums.ratio("forced_on_correct", "forced_on");
    line["forced_accuracy_off"] = sums.ratio("forced_off_correct", "forced_off");
  }
  return line;
}

RlResult RlTrainer::run() {
  Parts& p = *parts_;
  const RlSection& rc = p.rc;
  RlResult result;
  result.run_dir = p.run_dir;
  result.rank = p.dist.rank();
  core::ProgressOptions progress_options;
  progress_options.enabled = p.dist.is_main() && p.options.progress;
  core::Progress progress("rl " + std::string(core::enum_name(rc.algorithm)), rc.steps, "step", progress_options);

  for (int64_t step = p.start_step; step < p.plan.end_step; ++step) {
    nlohmann::json line = train_step(step);
    const int64_t done = step + 1;
    result.last_loss = line["loss"].get<double>();
    result.last_reward = line["reward"].get<double>();
    result.steps_done = done;
    if (done % std::max<int64_t>(rc.run.log_every, 1) == 0 || p.plan.is_last(done) || done == p.plan.end_step)
      p.folder.write_metrics(line);
    progress.update(done, {{"reward", result.last_reward}, {"acc", line["accuracy"].get<double>()},
                           {"on", line["think_on_rate"].get<double>()}, {"loss", result.last_loss}},
                    {{"tok", p.tokens_total}});
    if (p.plan.saves_after(done))
      p.folder.save_checkpoint(*p.net, *p.optimizer, {done, {}, p.tokens_total}, p.save_options, rc.run.keep);
  }

  result.stopped = p.plan.stops_early();
  if (result.stopped) progress.finish({{"reward", result.last_reward}, {"stopped_at", p.plan.end_step}});
  else progress.finish({{"reward", result.last_reward}, {"loss", result.last_loss}});
  result.model_dir = p.folder.finish(p.plan, *p.net, p.save_options);
  return result;
}

RlResult run_rl(const RlConfig& config, const RlRunOptions& options) { return RlTrainer(config, options).run(); }

}  // namespace autothink::rl
