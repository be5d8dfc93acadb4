// The training loop: setup (distributed group, tokenizer, shards, model, teacher, optimizer,
// resume), steps (micro-batches, losses, gradient sync, clipping, AdamW), metrics, eval, saving.
#include "train/trainer.hpp"

#include <torch/torch.h>

#include <chrono>
#include <limits>
#include <fstream>
#include <memory>
#include <optional>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/jsonl.hpp"
#include "core/launcher_env.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "data/batcher.hpp"
#include "data/token_shard.hpp"
#include "data/token_shard_build.hpp"
#include "data/tokenizer.hpp"
#include "model/checkpoint.hpp"
#include "model/width_prune.hpp"
#include "train/autocast.hpp"
#include "train/grad_sync.hpp"
#include "train/losses.hpp"
#include "train/optimizer.hpp"
#include "train/process_group.hpp"
#include "train/schedule.hpp"
#include "train/teacher_topk.hpp"
#include "train/train_checkpoint.hpp"

namespace autothink::train {
namespace fs = std::filesystem;

namespace {

std::string trainer_tokenizer_path(const TrainSection& t) {
  if (!t.tokenizer.empty()) return data::resolve_tokenizer_path(t.tokenizer);
  for (const std::string& dir : {t.init, t.teacher})
    if (!dir.empty() && fs::exists(fs::path(dir) / "tokenizer.model")) return (fs::path(dir) / "tokenizer.model").string();
  throw Error("no tokenizer for training", "train.tokenizer",
              "set train.tokenizer: PATH/tokenizer.model (or start from a model folder that holds one)");
}

model::ModelConfig trainer_model_config(const ModelSection& m, int64_t vocab) {
  model::ModelConfig c;
  c.vocab_size = m.vocab_size > 0 ? m.vocab_size : vocab;
  c.hidden_size = m.hidden_size;
  c.intermediate_size = m.intermediate_size;
  c.num_hidden_layers = m.num_hidden_layers;
  c.num_attention_heads = m.num_attention_heads;
  c.num_key_value_heads = m.num_key_value_heads;
  c.head_dim = m.head_dim;
  c.max_position_embeddings = m.max_position_embeddings;
  c.rope_theta = m.rope_theta;
  c.rms_norm_eps = m.rms_norm_eps;
  c.tie_word_embeddings = m.tie_word_embeddings;
  c.mtp_depth = m.mtp_depth;
  c.initializer_range = m.initializer_range;
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

// Per-batch loss sums (not yet normalised) and counts.
struct LossSums {
  torch::Tensor ce, kd;               // 0-dim f32
  std::vector<torch::Tensor> mtp;     // per depth
  int64_t mtp1_correct = 0;
};

// Model FLOPs per trained token: 6 × parameters in matmuls + attention (12 · layers · H · T).
double trainer_flops_per_token(const model::ModelConfig& c, double mean_len) {
  double h = static_cast<double>(c.hidden_size), kvh = static_cast<double>(c.kv_heads() * c.head_size());
  double per_layer = h * h * 2 + h * kvh * 2 + 3 * h * static_cast<double>(c.intermediate_size);
  double params = per_layer * static_cast<double>(c.num_hidden_layers + c.mtp_depth) +
                  static_cast<double>(c.vocab_size) * h;
  return 6 * params + 12 * static_cast<double>(c.num_hidden_layers) * h * mean_len;
}

// Keeps metrics.jsonl lines up to `step` (a resumed run rewrites what came after its checkpoint).
void trainer_trim_metrics(const fs::path& path, int64_t step) {
  if (!fs::exists(path)) return;
  std::vector<nlohmann::json> kept;
  core::read_jsonl(path.string(), [&](const nlohmann::json& j, int64_t) {
    if (j.value("step", int64_t{0}) <= step) kept.push_back(j);
  }, core::JsonlOptions{true});
  core::write_jsonl(path.string(), kept);
}

}  // namespace

TrainResult run_training(const TrainConfig& config, const RunOptions& options) {
  const TrainSection& tc = config.train;
  TrainResult result;
  result.run_dir = !options.out.empty() ? options.out : fs::path(tc.out);
  if (result.run_dir.empty()) throw Error("no run folder", "train.out", "pass --out RUN_DIR or set train.out");
  const fs::path run_dir = result.run_dir;

  // Distributed group (one process: every collective is a no-op).
  core::LaunchEnv env = core::detect_launch_env();
  if (env.is_distributed()) log::set_rank(env.rank);
  Distributed dist(env, std::chrono::milliseconds(static_cast<int64_t>(tc.dist_timeout_s * 1000)));
  const torch::Device device = dist.device();
  const bool main = dist.is_main();
  result.rank = dist.rank();
  if (dist.is_distributed()) log::info("distributed: ", env.describe(), ", backend ", dist.backend());

  if (main) {
    core::ensure_dir(run_dir.string());
    if (!options.resume && latest_checkpoint(run_dir))
      throw Error("the run folder already holds checkpoints", run_dir.string(),
                  "pass --resume to continue it, or choose another --out");
    core::atomic_write_file((run_dir / "config.yaml").string(), config.resolved_yaml + "\n");
  }

  // Tokenizer and token shards (rank 0 builds, the others then map the cached files).
  const std::string tokenizer_path = trainer_tokenizer_path(tc);
  data::Tokenizer tokenizer(tokenizer_path);
  data::ShardBuildOptions shard_options;
  shard_options.inputs = config.data.train;
  shard_options.style = data::render_style_for_stage(tc.stage);
  shard_options.skip_bad = config.data.skip_bad;
  shard_options.max_tokens = static_cast<std::size_t>(config.data.max_len);
  shard_options.auto_judges = {config.data.auto_judge_on, config.data.auto_judge_off};
  shard_options.cache_dir = config.data.cache_dir.empty() ? run_dir / "shards" : fs::path(config.data.cache_dir);
  data::ShardBuildOptions dev_options = shard_options;
  dev_options.inputs = config.data.dev;
  dev_options.name = "dev";
  auto build_shards = [&] {
    auto train = data::build_token_shard(shard_options, tokenizer);
    std::optional<data::ShardBuildResult> dev;
    if (!dev_options.inputs.empty()) dev = data::build_token_shard(dev_options, tokenizer);
    return std::make_pair(train, dev);
  };
  if (main) build_shards();
  dist.barrier();
  auto [train_shard_info, dev_shard_info] = build_shards();
  data::TokenShard train_shard(train_shard_info.path);
  std::optional<data::TokenShard> dev_shard;
  if (dev_shard_info) dev_shard.emplace(dev_shard_info->path);

  // Online teacher (eval mode, no grad).
  std::shared_ptr<model::Qwen2Model> teacher;
  if (!tc.teacher.empty()) {
    teacher = model::load_model(tc.teacher, device);
    teacher->eval();
    for (auto& p : teacher->parameters()) p.set_requires_grad(false);
  }

  // Model: from a folder, cut out of the teacher, or from scratch (seeded, so every rank builds
  // the same weights; pruning is deterministic too).
  torch::manual_seed(static_cast<uint64_t>(tc.seed));
  std::shared_ptr<model::Qwen2Model> net;
  if (!tc.init.empty()) {
    net = model::load_model(tc.init, device, torch::kFloat);
  } else if (tc.prune_teacher) {
    net = trainer_pruned_student(*teacher, trainer_model_config(config.model, tokenizer.vocab_size()), train_shard,
                                 static_cast<std::size_t>(tc.prune_docs), main);
  } else {
    net = std::make_shared<model::Qwen2Model>(trainer_model_config(config.model, tokenizer.vocab_size()));
    net->to(device);
  }
  const model::ModelConfig& mc = net->config();
  if (mc.vocab_size < tokenizer.vocab_size())
    throw Error("the model's vocabulary (" + std::to_string(mc.vocab_size) + ") is smaller than the tokenizer's (" +
                std::to_string(tokenizer.vocab_size()) + ")", tc.init.empty() ? "model.vocab_size" : tc.init);
  const int64_t depth = mc.mtp_depth;
  net->train();

  // Top-k dump (offline teacher); the online teacher was loaded above.
  std::optional<TopkTeacher> topk;
  if (teacher) {
    if (teacher->config().vocab_size != mc.vocab_size)
      throw Error("teacher vocabulary " + std::to_string(teacher->config().vocab_size) + " differs from the student's " +
                  std::to_string(mc.vocab_size), tc.teacher, "teacher and student must share the tokenizer");
  } else if (!tc.teacher_topk.empty()) {
    topk.emplace(tc.teacher_topk, train_shard);
  }
  const double alpha = tc.ce_weight;
  const double beta = tc.kd_weight >= 0 ? tc.kd_weight : ((teacher || topk) ? 1.0 : 0.0);
  if (beta > 0 && !teacher && !topk)
    throw Error("train.kd_weight > 0 needs a teacher", "train.kd_weight", "set train.teacher or train.teacher_topk");
  const double lambda = depth > 0 ? tc.mtp_weight : 0.0;

  // Optimizer, schedule, data order.
  std::vector<torch::Tensor> params = net->parameters();
  auto optimizer = make_adamw(params, {tc.lr, tc.weight_decay, tc.beta1, tc.beta2, tc.eps});
  LrSchedule schedule{tc.lr, tc.min_lr, tc.warmup, tc.steps};
  data::BatcherOptions bo;
  bo.rows = tc.batch_size;
  bo.accumulation = tc.grad_accum;
  bo.rank = dist.rank();
  bo.world = dist.world_size();
  bo.seed = static_cast<uint64_t>(tc.seed);
  bo.pad_id = tokenizer.pad_id();
  bo.max_len = config.data.max_len;
  bo.group_by_length = config.data.group_by_length;
  data::Batcher batcher(train_shard, bo);

  int64_t start_step = 0, tokens_total = 0;
  if (options.resume) {
    auto ckpt = latest_checkpoint(run_dir);
    if (!ckpt) {
      log::warn("--resume: no checkpoint in ", run_dir.string(), "; starting from step 0");
    } else {
      TrainerState st = load_checkpoint(*ckpt, *net, *optimizer);
      start_step = st.step;
      tokens_total = st.tokens;
      batcher.set_position(st.data);
      log::info("resumed from ", ckpt->string(), " at step ", st.step);
    }
  }
  dist.broadcast_parameters(params);
  GradientSync sync(dist, params, GradSyncOptions{tc.bucket_mb, true});
  const bool autocast = tc.bf16 && device.is_cuda();

  model::SaveOptions save_options;
  save_options.tokenizer_model = tokenizer_path;
  save_options.autothink = {{"stage", tc.stage},
                            {"special_token_ids", nlohmann::json::object()},
                            {"training", {{"steps", tc.steps}, {"seed", tc.seed}, {"teacher", tc.teacher}}}};
  for (int i = 0; i < format::kSpecialCount; ++i)
    save_options.autothink["special_token_ids"][std::string(format::kSpecialLiterals[i])] =
        tokenizer.special_id(static_cast<format::Special>(i));

  const fs::path metrics_path = run_dir / "metrics.jsonl";
  if (main) {
    if (options.resume) trainer_trim_metrics(metrics_path, start_step);
    else fs::remove(metrics_path);
  }
  std::unique_ptr<core::JsonlWriter> metrics;
  if (main) metrics = std::make_unique<core::JsonlWriter>(metrics_path.string(), core::JsonlWriter::Mode::append);

  // Held-out loss: CE (and MTP) over the dev documents, all ranks, global normalisation.
  auto evaluate = [&]() -> nlohmann::json {
    nlohmann::json out;
    if (!dev_shard) return out;
    torch::NoGradGuard no_grad;
    AutocastScope scope(autocast);
    double ce = 0, count = 0;
    std::vector<double> mtp(depth, 0.0), mtp_count(depth, 0.0);
    for (const auto& docs : data::eval_doc_batches(dev_shard->doc_count(), tc.batch_size, dist.rank(), dist.world_size(),
                                                   static_cast<std::size_t>(std::max<int64_t>(tc.eval_docs, 0)))) {
      auto b = data::make_batch(*dev_shard, docs, tokenizer.pad_id(), config.data.max_len);
      auto db = trainer_to_device(b, device);
      auto input = db.ids.slice(1, 0, b.cols - 1);
      auto hidden = net->forward_hidden(input);
      ce += masked_ce_sum(net->logits(hidden), db.ids.slice(1, 1), db.mask.slice(1, 1)).item<double>();
      count += static_cast<double>(b.masked_targets);
      if (depth > 0) {
        auto m = mtp_ce_sums(net->mtp_logits(hidden, input), db.ids, db.mask);
        for (int64_t k = 0; k < depth; ++k) mtp[k] += m[k].loss_sum.item<double>(), mtp_count[k] += m[k].count;
      }
    }
    std::vector<double> all = {ce, count};
    for (int64_t k = 0; k < depth; ++k) all.push_back(mtp[k]), all.push_back(mtp_count[k]);
    auto t = torch::tensor(all, torch::kDouble).to(device);
    dist.all_reduce_sum(t);
    t = t.cpu();
    out["dev_loss"] = t[0].item<double>() / std::max(1.0, t[1].item<double>());
    for (int64_t k = 0; k < depth; ++k)
      out["dev_mtp_" + std::to_string(k + 1)] = t[2 + 2 * k].item<double>() / std::max(1.0, t[3 + 2 * k].item<double>());
    return out;
  };

  core::ProgressOptions progress_options;
  progress_options.enabled = main && options.progress;
  core::Progress progress("train " + tc.stage, tc.steps, "step", progress_options);
  const int64_t end_step = tc.stop_at > 0 ? std::min(tc.stop_at, tc.steps) : tc.steps;
  double last_dev = -1;
  auto t_last = std::chrono::steady_clock::now();
  int64_t tokens_since = 0;

  for (int64_t step = start_step; step < end_step; ++step) {
    const double lr = schedule.lr_at(step);
    set_learning_rate(*optimizer, lr);
    const auto step_docs = batcher.peek_step_docs();
    std::vector<data::Batch> micro = batcher.next_step();

    // Global loss-token counts: CE/KD targets and each MTP depth's targets, over ranks and micro-batches.
    std::vector<double> counts(1 + depth, 0.0);
    double tokens_local = 0;
    std::vector<DeviceBatch> dev_batches;
    for (const auto& b : micro) {
      dev_batches.push_back(trainer_to_device(b, device));
      counts[0] += static_cast<double>(b.masked_targets);
      tokens_local += static_cast<double>(b.tokens);
      if (depth > 0) {
        auto c = mtp_target_counts(dev_batches.back().mask, depth);
        for (int64_t k = 0; k < depth; ++k) counts[1 + k] += static_cast<double>(c[k]);
      }
    }
    counts.push_back(tokens_local);
    auto global_counts_t = torch::tensor(counts, torch::kDouble).to(device);
    dist.all_reduce_sum(global_counts_t);
    std::vector<double> global(global_counts_t.cpu().data_ptr<double>(),
                               global_counts_t.cpu().data_ptr<double>() + counts.size());
    const double n_ce = std::max(1.0, global[0]);
    const double world = dist.world_size();

    optimizer->zero_grad();
    std::vector<double> sums(2 + depth, 0.0);  // ce, kd, mtp_k (local, unnormalised)
    int64_t mtp1_correct = 0;
    for (std::size_t m = 0; m < micro.size(); ++m) {
      const auto& b = micro[m];
      const auto& db = dev_batches[m];
      if (m + 1 == micro.size()) sync.prepare();
      torch::Tensor loss;
      {
        AutocastScope scope(autocast);
        auto input = db.ids.slice(1, 0, b.cols - 1);
        auto targets = db.ids.slice(1, 1);
        auto target_mask = db.mask.slice(1, 1);
        auto hidden = net->forward_hidden(input);
        auto logits = net->logits(hidden);
        auto ce = masked_ce_sum(logits, targets, target_mask);
        loss = ce * (alpha / n_ce);
        sums[0] += ce.item<double>();
        if (beta > 0) {
          torch::Tensor kd;
          if (teacher) {
            torch::Tensor t_logits;
            {
              torch::NoGradGuard no_grad;
              t_logits = teacher->logits(teacher->forward_hidden(input));
            }
            kd = kd_sum(logits, t_logits, target_mask, tc.kd_temperature);
          } else {
            auto rows = logits.reshape({-1, logits.size(-1)}).index({target_mask.reshape({-1}).ne(0)});
            auto [ids, vals] = topk->rows_for(step_docs[m], b, device);
            kd = kd_topk_sum(rows, ids, vals, tc.kd_temperature);
          }
          loss = loss + kd * (beta / n_ce);
          sums[1] += kd.item<double>();
        }
        if (depth > 0) {
          auto mtp = mtp_ce_sums(net->mtp_logits(hidden, input), db.ids, db.mask);
          for (int64_t k = 0; k < depth; ++k) {
            loss = loss + mtp[k].loss_sum * (lambda / static_cast<double>(depth) / std::max(1.0, global[1 + k]));
            sums[2 + k] += mtp[k].loss_sum.item<double>();
          }
          mtp1_correct += mtp[0].correct;
        }
      }
      // GradientSync averages over ranks; scaling by world turns that mean into the global sum.
      (loss * world).backward();
    }
    sync.finish();
    double grad_norm = 0;
    {
      double max_norm = tc.clip > 0 ? tc.clip : std::numeric_limits<double>::infinity();
      grad_norm = torch::nn::utils::clip_grad_norm_(params, max_norm);
    }
    optimizer->step();

    // Metrics: global sums / global counts.
    sums.push_back(static_cast<double>(mtp1_correct));
    auto sums_t = torch::tensor(sums, torch::kDouble).to(device);
    dist.all_reduce_sum(sums_t);
    sums_t = sums_t.cpu();
    const double ce = sums_t[0].item<double>() / n_ce;
    const double kd = sums_t[1].item<double>() / n_ce;
    double loss_value = alpha * ce + beta * kd;
    nlohmann::json line = {{"step", step + 1}, {"ce", ce}};
    if (beta > 0) line["kd"] = kd;
    for (int64_t k = 0; k < depth; ++k) {
      double v = sums_t[2 + k].item<double>() / std::max(1.0, global[1 + k]);
      line["mtp_" + std::to_string(k + 1)] = v;
      loss_value += lambda / static_cast<double>(depth) * v;
    }
    if (depth > 0) line["mtp1_top1"] = sums_t[2 + depth].item<double>() / std::max(1.0, global[1]);
    line["loss"] = loss_value;
    line["lr"] = lr;
    line["grad_norm"] = grad_norm;
    const int64_t step_tokens = static_cast<int64_t>(global.back());
    tokens_total += step_tokens;
    tokens_since += step_tokens;
    auto now = std::chrono::steady_clock::now();
    double dt = std::chrono::duration<double>(now - t_last).count();
    line["tokens"] = tokens_total;
    if (dt > 0) {
      double tps = static_cast<double>(tokens_since) / dt;
      line["tokens_per_s"] = tps;
      if (tc.peak_flops > 0) {
        double mean_len = static_cast<double>(step_tokens) / static_cast<double>(batcher.global_batch());
        line["mfu"] = tps * trainer_flops_per_token(mc, mean_len) / (tc.peak_flops * world);
      }
    }
    t_last = now;
    tokens_since = 0;
    result.last_loss = loss_value;
    result.steps_done = step + 1;

    const bool last = step + 1 == tc.steps;
    if ((tc.eval_every > 0 && (step + 1) % tc.eval_every == 0) || last) {
      nlohmann::json dev = evaluate();
      for (auto& [k, v] : dev.items()) line[k] = v;
      if (dev.contains("dev_loss")) last_dev = dev["dev_loss"].get<double>();
    }
    if (main && (line.contains("dev_loss") || (step + 1) % std::max<int64_t>(tc.log_every, 1) == 0 || last)) {
      metrics->write(line);
      metrics->flush();
    }
    progress.update(step + 1, {{"loss", loss_value}, {"lr", lr}}, {{"tok", tokens_total}});

    const bool stop_here = step + 1 == end_step && end_step < tc.steps;
    if ((tc.save_every > 0 && (step + 1) % tc.save_every == 0) || stop_here) {
      if (main) {
        auto path = save_checkpoint(run_dir, *net, *optimizer, {step + 1, batcher.position(), tokens_total}, save_options, tc.keep);
        log::info("checkpoint ", path.string());
      }
      dist.barrier();
    }
  }

  result.dev_loss = last_dev;
  if (end_step < tc.steps) {
    result.stopped = true;
    progress.finish({{"loss", result.last_loss}, {"stopped_at", end_step}});
    dist.barrier();
    return result;
  }
  progress.finish({{"loss", result.last_loss}});
  result.model_dir = run_dir / "model";
  if (main) {
    model::save_model(*net, result.model_dir, save_options);
    log::info("model written to ", result.model_dir.string());
  }
  dist.barrier();
  return result;
}

}  // namespace autothink::train
