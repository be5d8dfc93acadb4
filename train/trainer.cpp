// The training loop: Trainer::Parts (what setup builds), train_step (micro-batches, losses,
// gradient sync, clipping, AdamW, the metrics line), evaluate (held-out loss), run (the steps,
// eval/log/checkpoint cadence, the final model).
#include "train/trainer.hpp"

#include <torch/torch.h>

#include <chrono>
#include <limits>
#include <memory>
#include <optional>

#include "core/error.hpp"
#include "core/launcher_env.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "data/batcher.hpp"
#include "data/token_shard.hpp"
#include "data/token_shard_build.hpp"
#include "data/tokenizer.hpp"
#include "model/checkpoint.hpp"
#include "model/vocab_grow.hpp"
#include "model/width_prune.hpp"
#include "train/autocast.hpp"
#include "train/grad_sync.hpp"
#include "train/losses.hpp"
#include "train/optimizer.hpp"
#include "train/process_group.hpp"
#include "train/run_folder.hpp"
#include "train/schedule.hpp"
#include "train/teacher_topk.hpp"

namespace autothink::train {
namespace fs = std::filesystem;

namespace {

std::string trainer_tokenizer_path(const TrainSection& t) {
  if (!t.tokenizer.empty()) return data::resolve_tokenizer_path(t.tokenizer);
  for (const std::string& dir : {t.init, t.teacher}) {
    if (dir.empty()) continue;
    const std::string path = data::resolve_tokenizer_path(dir);
    if (fs::exists(path)) return path;
  }
  throw Error("no tokenizer for training", "train.tokenizer",
              "set train.tokenizer: PATH/tokenizer.model or PATH/tokenizer.json (or start from a model folder "
              "that holds one)");
}

model::ModelConfig trainer_model_config(const ModelSection& m, int64_t vocab) {
  model::ModelConfig c = m.shape;
  if (c.vocab_size <= 0) c.vocab_size = vocab;
  model::finalize_config(c, "model section");
  return c;
}

// The student cut out of the teacher (model/width_prune.hpp), ranked on `docs` training documents
// spread evenly over the shard (the same ones on every rank).
std::shared_ptr<model::Qwen2Model> trainer_pruned_student(model::Qwen2Model& teacher, const model::ModelConfig& shape,
                                                          const data::TokenShard& shard, std::size_t docs, bool main) {
  std::vector<torch::Tensor> calibration;
  const std::size_t n = std::min(docs, shard.doc_count());
  for (std::size_t i = 0; i < n; ++i) {
    const data::DocView d = shard.doc(i * shard.doc_count() / n);
    std::vector<int64_t> ids(d.ids, d.ids + d.size);
    calibration.push_back(torch::tensor(ids, torch::kLong).unsqueeze(0));
  }
  model::WidthPruneReport report;
  auto student = model::width_prune(teacher, shape, calibration, &report);
  if (main) {
    std::string layers;
    for (double k : report.neuron_importance_kept) layers += (layers.empty() ? "" : " ") + std::to_string(k).substr(0, 5);
    log::info("student cut out of the teacher: hidden ", teacher.config().hidden_size, " -> ", shape.hidden_size,
              " (importance kept ", std::to_string(report.hidden_importance_kept).substr(0, 5), "), MLP ",
              teacher.config().intermediate_size, " -> ", shape.intermediate_size, " (kept per layer ", layers, "), ",
              report.calibration_tokens, " calibration tokens");
  }
  return student;
}

// The tensors of one batch on the device: ids [B, L] (int64), mask [B, L].
struct DeviceBatch {
  torch::Tensor ids, mask;
};
DeviceBatch trainer_to_device(const data::Batch& b, torch::Device device) {
  auto ids = torch::from_blob(const_cast<int32_t*>(b.ids.data()), {b.rows, b.cols}, torch::kInt32).to(torch::kLong);
  auto mask = torch::from_blob(const_cast<uint8_t*>(b.mask.data()), {b.rows, b.cols}, torch::kUInt8).clone();
  return {ids.to(device), mask.to(device)};
}

// Model FLOPs per trained token: 6 × parameters in matmuls + attention (12 · layers · H · T).
double trainer_flops_per_token(const model::ModelConfig& c, double mean_len) {
  double h = static_cast<double>(c.hidden_size), kvh = static_cast<double>(c.kv_heads() * c.head_size());
  double per_layer = h * h * 2 + h * kvh * 2 + 3 * h * static_cast<double>(c.intermediate_size);
  double params = per_layer * static_cast<double>(c.num_hidden_layers + c.mtp_depth) +
                  static_cast<double>(c.vocab_size) * h;
  return 6 * params + 12 * static_cast<double>(c.num_hidden_layers) * h * mean_len;
}

fs::path trainer_run_dir(const RunOptions& options, const TrainSection& t) {
  fs::path dir = !options.out.empty() ? options.out : fs::path(t.out);
  if (dir.empty()) throw Error("no run folder", "train.out", "pass --out RUN_DIR or set train.out");
  return dir;
}

// The launch environment, with log lines tagged by rank from here on.
core::LaunchEnv trainer_launch_env() {
  core::LaunchEnv env = core::detect_launch_env();
  if (env.is_distributed()) log::set_rank(env.rank);
  return env;
}

}  // namespace

struct Trainer::Parts {
  const TrainConfig config;
  const TrainSection& tc = config.train;
  const RunOptions options;
  const fs::path run_dir;
  const core::LaunchEnv env;
  Distributed dist;
  const torch::Device device;
  RunFolder folder;
  const std::string tokenizer_path;
  data::Tokenizer tokenizer;
  std::optional<data::TokenShard> train_shard, dev_shard;
  std::shared_ptr<model::Qwen2Model> teacher;     // online teacher (eval mode, no grad), or null
  std::optional<TopkTeacher> topk;                // offline teacher: a top-k dump
  std::shared_ptr<model::Qwen2Model> net;
  int64_t depth = 0;                              // MTP depth
  double alpha = 0, beta = 0, lambda = 0;         // CE, KD, MTP weights
  std::vector<torch::Tensor> params;
  std::unique_ptr<torch::optim::AdamW> optimizer;
  LrSchedule schedule;
  std::optional<data::Batcher> batcher;
  std::optional<GradientSync> sync;
  bool autocast = false;
  model::SaveOptions save_options;
  StepPlan plan;
  int64_t start_step = 0, tokens_total = 0;
  std::chrono::steady_clock::time_point last_step_end = std::chrono::steady_clock::now();  // tokens/s

  Parts(const TrainConfig& c, const RunOptions& o)
      : config(c),
        options(o),
        run_dir(trainer_run_dir(options, tc)),
        env(trainer_launch_env()),
        dist(env, std::chrono::milliseconds(static_cast<int64_t>(tc.run.dist_timeout_s * 1000))),
        device(dist.device()),
        folder(run_dir, dist, options.resume, config.resolved_yaml),
        tokenizer_path(trainer_tokenizer_path(tc)),
        tokenizer(tokenizer_path),
        plan(StepPlan::make(tc.steps, options.stop_after, tc.run.save_every)) {
    if (dist.is_distributed()) log::info("distributed: ", env.describe(), ", backend ", dist.backend());
    build_shards();
    build_models();
    build_optimizer_and_data();
    if (auto state = folder.resume(*net, *optimizer)) {
      start_step = state->step;
      tokens_total = state->tokens;
      batcher->set_position(state->data);
    }
    dist.broadcast_parameters(params);
    sync.emplace(dist, params, GradSyncOptions{tc.run.bucket_mb, true});
    autocast = tc.bf16 && device.is_cuda();

    save_options.tokenizer_model = tokenizer_path;
    save_options.autothink = {{"stage", core::enum_name(tc.stage)},
                              {"special_token_ids", special_token_ids(tokenizer)},
                              {"training", {{"steps", tc.steps}, {"seed", tc.seed}, {"teacher", tc.teacher}}}};
    folder.open_metrics(start_step);
  }

  // Token shards: rank 0 builds (or finds them cached), the others then map the cached files.
  void build_shards() {
    data::ShardBuildOptions train_options;
    train_options.inputs = config.data.train;
    train_options.style = render_style_for(tc.stage);
    train_options.skip_bad = config.data.skip_bad;
    train_options.max_tokens = static_cast<std::size_t>(config.data.max_len);
    train_options.auto_judges = {config.data.auto_judge_on, config.data.auto_judge_off};
    train_options.cache_dir = config.data.cache_dir.empty() ? run_dir / "shards" : fs::path(config.data.cache_dir);
    data::ShardBuildOptions dev_options = train_options;
    dev_options.inputs = config.data.dev;
    dev_options.name = "dev";
    auto build = [&] {
      auto train = data::build_token_shard(train_options, tokenizer);
      std::optional<data::ShardBuildResult> dev;
      if (!dev_options.inputs.empty()) dev = data::build_token_shard(dev_options, tokenizer);
      return std::make_pair(train, dev);
    };
    if (dist.is_main()) build();
    dist.barrier();
    auto [train_info, dev_info] = build();
    train_shard.emplace(train_info.path);
    if (dev_info) dev_shard.emplace(dev_info->path);
  }

  // The teacher, the student (from a folder, cut out of the teacher, or from scratch: seeded, so
  // every rank builds the same weights; pruning is deterministic too) and the loss weights.
  void build_models() {
    if (!tc.teacher.empty()) {
      teacher = model::load_model(tc.teacher, device);
      teacher->eval();
      for (auto& p : teacher->parameters()) p.set_requires_grad(false);
    }
    torch::manual_seed(static_cast<uint64_t>(tc.seed));
    if (!tc.init.empty()) {
      net = model::load_model(tc.init, device, torch::kFloat);
      if (net->config().vocab_size < tokenizer.vocab_size()) {
        // The tokenizer gained tokens (tokenizer add-kat-tokens): new rows start at the mean row.
        if (dist.is_main())
          log::info("train.init has ", net->config().vocab_size, " vocabulary rows, the tokenizer ", tokenizer.vocab_size(),
                    ": adding ", tokenizer.vocab_size() - net->config().vocab_size, " rows initialised to the mean row");
        net = model::grow_vocabulary(*net, tokenizer.vocab_size());
      }
    } else if (tc.prune_teacher) {
      net = trainer_pruned_student(*teacher, trainer_model_config(config.model, tokenizer.vocab_size()), *train_shard,
                                   static_cast<std::size_t>(tc.prune_docs), dist.is_main());
    } else {
      net = std::make_shared<model::Qwen2Model>(trainer_model_config(config.model, tokenizer.vocab_size()));
      net->to(device);
    }
    const model::ModelConfig& mc = net->config();
    if (mc.vocab_size < tokenizer.vocab_size())
      throw Error("the model's vocabulary (" + std::to_string(mc.vocab_size) + ") is smaller than the tokenizer's (" +
                  std::to_string(tokenizer.vocab_size()) + ")", tc.init.empty() ? "model.vocab_size" : tc.init);
    depth = mc.mtp_depth;
    net->train();

    if (teacher) {
      if (teacher->config().vocab_size != mc.vocab_size)
        throw Error("teacher vocabulary " + std::to_string(teacher->config().vocab_size) + " differs from the student's " +
                    std::to_string(mc.vocab_size), tc.teacher, "teacher and student must share the tokenizer");
    } else if (!tc.teacher_topk.empty()) {
      topk.emplace(tc.teacher_topk, *train_shard);
    }
    alpha = tc.ce_weight;
    beta = tc.kd_weight >= 0 ? tc.kd_weight : ((teacher || topk) ? 1.0 : 0.0);
    if (beta > 0 && !teacher && !topk)
      throw Error("train.kd_weight > 0 needs a teacher", "train.kd_weight", "set train.teacher or train.teacher_topk");
    lambda = depth > 0 ? tc.mtp_weight : 0.0;
  }

  void build_optimizer_and_data() {
    params = net->parameters();
    optimizer = make_adamw(params, tc.optimizer.adamw());
    schedule = LrSchedule{tc.optimizer.lr, tc.optimizer.min_lr, tc.optimizer.warmup, tc.steps};
    data::BatcherOptions bo;
    bo.rows = tc.batch_size;
    bo.accumulation = tc.grad_accum;
    bo.rank = dist.rank();
    bo.world = dist.world_size();
    bo.seed = static_cast<uint64_t>(tc.seed);
    bo.pad_id = tokenizer.pad_id();
    bo.max_len = config.data.max_len;
    bo.group_by_length = config.data.group_by_length;
    batcher.emplace(*train_shard, bo);
  }
};

Trainer::Trainer(const TrainConfig& config, const RunOptions& options)
    : parts_(std::make_unique<Parts>(config, options)) {}

Trainer::~Trainer() = default;

nlohmann::json Trainer::evaluate() {
  Parts& p = *parts_;
  nlohmann::json out;
  if (!p.dev_shard) return out;
  torch::NoGradGuard no_grad;
  AutocastScope scope(p.autocast);
  const int64_t depth = p.depth;
  double ce = 0, count = 0;
  std::vector<double> mtp(depth, 0.0), mtp_count(depth, 0.0);
  for (const auto& docs : data::eval_doc_batches(p.dev_shard->doc_count(), p.tc.batch_size, p.dist.rank(),
                                                 p.dist.world_size(), static_cast<std::size_t>(std::max<int64_t>(p.tc.eval_docs, 0)))) {
    auto b = data::make_batch(*p.dev_shard, docs, p.tokenizer.pad_id(), p.config.data.max_len);
    auto db = trainer_to_device(b, p.device);
    auto input = db.ids.slice(1, 0, b.cols - 1);
    auto hidden = p.net->forward_hidden(input);
    ce += masked_ce_sum(p.net->logits(hidden), db.ids.slice(1, 1), db.mask.slice(1, 1)).item<double>();
    count += static_cast<double>(b.masked_targets);
    if (depth > 0) {
      auto m = mtp_ce_sums(p.net->mtp_logits(hidden, input), db.ids, db.mask);
      for (int64_t k = 0; k < depth; ++k) mtp[k] += m[k].loss_sum.item<double>(), mtp_count[k] += m[k].count;
    }
  }
  std::vector<double> all = {ce, count};
  for (int64_t k = 0; k < depth; ++k) all.push_back(mtp[k]), all.push_back(mtp_count[k]);
  auto t = torch::tensor(all, torch::kDouble).to(p.device);
  p.dist.all_reduce_sum(t);
  t = t.cpu();
  out["dev_loss"] = t[0].item<double>() / std::max(1.0, t[1].item<double>());
  for (int64_t k = 0; k < depth; ++k)
    out["dev_mtp_" + std::to_string(k + 1)] = t[2 + 2 * k].item<double>() / std::max(1.0, t[3 + 2 * k].item<double>());
  return out;
}

nlohmann::json Trainer::train_step(int64_t step) {
  Parts& p = *parts_;
  const TrainSection& tc = p.tc;
  const int64_t depth = p.depth;
  const double lr = p.schedule.lr_at(step);
  set_learning_rate(*p.optimizer, lr);
  const auto step_docs = p.batcher->peek_step_docs();
  std::vector<data::Batch> micro = p.batcher->next_step();

  // Global loss-token counts: CE/KD targets and each MTP depth's targets, over ranks and micro-batches.
  std::vector<double> counts(1 + depth, 0.0);
  double tokens_local = 0;
  std::vector<DeviceBatch> dev_batches;
  for (const auto& b : micro) {
    dev_batches.push_back(trainer_to_device(b, p.device));
    counts[0] += static_cast<double>(b.masked_targets);
    tokens_local += static_cast<double>(b.tokens);
    if (depth > 0) {
      auto c = mtp_target_counts(dev_batches.back().mask, depth);
      for (int64_t k = 0; k < depth; ++k) counts[1 + k] += static_cast<double>(c[k]);
    }
  }
  counts.push_back(tokens_local);
  auto global_counts_t = torch::tensor(counts, torch::kDouble).to(p.device);
  p.dist.all_reduce_sum(global_counts_t);
  std::vector<double> global(global_counts_t.cpu().data_ptr<double>(),
                             global_counts_t.cpu().data_ptr<double>() + counts.size());
  const double n_ce = std::max(1.0, global[0]);
  const double world = p.dist.world_size();

  p.optimizer->zero_grad();
  std::vector<double> sums(2 + depth, 0.0);  // ce, kd, mtp_k (local, unnormalised)
  int64_t mtp1_correct = 0;
  for (std::size_t m = 0; m < micro.size(); ++m) {
    const auto& b = micro[m];
    const auto& db = dev_batches[m];
    if (m + 1 == micro.size()) p.sync->prepare();
    torch::Tensor loss;
    {
      AutocastScope scope(p.autocast);
      auto input = db.ids.slice(1, 0, b.cols - 1);
      auto targets = db.ids.slice(1, 1);
      auto target_mask = db.mask.slice(1, 1);
      auto hidden = p.net->forward_hidden(input);
      auto logits = p.net->logits(hidden);
      auto ce = masked_ce_sum(logits, targets, target_mask);
      loss = ce * (p.alpha / n_ce);
      sums[0] += ce.item<double>();
      if (p.beta > 0) {
        torch::Tensor kd;
        if (p.teacher) {
          torch::Tensor t_logits;
          {
            torch::NoGradGuard no_grad;
            t_logits = p.teacher->logits(p.teacher->forward_hidden(input));
          }
          kd = kd_sum(logits, t_logits, target_mask, tc.kd_temperature);
        } else {
          auto rows = logits.reshape({-1, logits.size(-1)}).index({target_mask.reshape({-1}).ne(0)});
          auto [ids, vals] = p.topk->rows_for(step_docs[m], b, p.device);
          kd = kd_topk_sum(rows, ids, vals, tc.kd_temperature);
        }
        loss = loss + kd * (p.beta / n_ce);
        sums[1] += kd.item<double>();
      }
      if (depth > 0) {
        auto mtp = mtp_ce_sums(p.net->mtp_logits(hidden, input), db.ids, db.mask);
        for (int64_t k = 0; k < depth; ++k) {
          loss = loss + mtp[k].loss_sum * (p.lambda / static_cast<double>(depth) / std::max(1.0, global[1 + k]));
          sums[2 + k] += mtp[k].loss_sum.item<double>();
        }
        mtp1_correct += mtp[0].correct;
      }
    }
    // GradientSync averages over ranks; scaling by world turns that mean into the global sum.
    (loss * world).backward();
  }
  p.sync->finish();
  const double max_norm = tc.optimizer.clip > 0 ? tc.optimizer.clip : std::numeric_limits<double>::infinity();
  const double grad_norm = torch::nn::utils::clip_grad_norm_(p.params, max_norm);
  p.optimizer->step();

  // Metrics: global sums / global counts.
  sums.push_back(static_cast<double>(mtp1_correct));
  auto sums_t = torch::tensor(sums, torch::kDouble).to(p.device);
  p.dist.all_reduce_sum(sums_t);
  sums_t = sums_t.cpu();
  const double ce = sums_t[0].item<double>() / n_ce;
  const double kd = sums_t[1].item<double>() / n_ce;
  double loss_value = p.alpha * ce + p.beta * kd;
  nlohmann::json line = {{"step", step + 1}, {"ce", ce}};
  if (p.beta > 0) line["kd"] = kd;
  for (int64_t k = 0; k < depth; ++k) {
    double v = sums_t[2 + k].item<double>() / std::max(1.0, global[1 + k]);
    line["mtp_" + std::to_string(k + 1)] = v;
    loss_value += p.lambda / static_cast<double>(depth) * v;
  }
  if (depth > 0) line["mtp1_top1"] = sums_t[2 + depth].item<double>() / std::max(1.0, global[1]);
  line["loss"] = loss_value;
  line["lr"] = lr;
  line["grad_norm"] = grad_norm;
  const int64_t step_tokens = static_cast<int64_t>(global.back());
  p.tokens_total += step_tokens;
  const auto now = std::chrono::steady_clock::now();
  const double dt = std::chrono::duration<double>(now - p.last_step_end).count();
  line["tokens"] = p.tokens_total;
  if (dt > 0) {
    const double tps = static_cast<double>(step_tokens) / dt;
    line["tokens_per_s"] = tps;
    if (tc.peak_flops > 0) {
      const double mean_len = static_cast<double>(step_tokens) / static_cast<double>(p.batcher->global_batch());
      line["mfu"] = tps * trainer_flops_per_token(p.net->config(), mean_len) / (tc.peak_flops * world);
    }
  }
  p.last_step_end = now;
  return line;
}

TrainResult Trainer::run() {
  Parts& p = *parts_;
  const TrainSection& tc = p.tc;
  TrainResult result;
  result.run_dir = p.run_dir;
  result.rank = p.dist.rank();
  core::ProgressOptions progress_options;
  progress_options.enabled = p.dist.is_main() && p.options.progress;
  core::Progress progress("train " + std::string(core::enum_name(tc.stage)), tc.steps, "step", progress_options);
  p.last_step_end = std::chrono::steady_clock::now();

  for (int64_t step = p.start_step; step < p.plan.end_step; ++step) {
    nlohmann::json line = train_step(step);
    const int64_t done = step + 1;
    result.last_loss = line["loss"].get<double>();
    result.steps_done = done;
    const bool last = p.plan.is_last(done);
    if ((tc.eval_every > 0 && done % tc.eval_every == 0) || last) {
      nlohmann::json dev = evaluate();
      for (auto& [k, v] : dev.items()) line[k] = v;
      if (dev.contains("dev_loss")) result.dev_loss = dev["dev_loss"].get<double>();
    }
    if (line.contains("dev_loss") || done % std::max<int64_t>(tc.run.log_every, 1) == 0 || last) p.folder.write_metrics(line);
    progress.update(done, {{"loss", result.last_loss}, {"lr", line["lr"].get<double>()}}, {{"tok", p.tokens_total}});
    if (p.plan.saves_after(done))
      p.folder.save_checkpoint(*p.net, *p.optimizer, {done, p.batcher->position(), p.tokens_total}, p.save_options, tc.run.keep);
  }

  result.stopped = p.plan.stops_early();
  if (result.stopped) progress.finish({{"loss", result.last_loss}, {"stopped_at", p.plan.end_step}});
  else progress.finish({{"loss", result.last_loss}});
  result.model_dir = p.folder.finish(p.plan, *p.net, p.save_options);
  return result;
}

TrainResult run_training(const TrainConfig& config, const RunOptions& options) {
  return Trainer(config, options).run();
}

}  // namespace autothink::train
