// The config sections `autothink train` reads (validated: unknown key or wrong type → error naming
// the key and file:line): `train` (stage, optimisation, losses, checkpoints), `data` (inputs,
// skip_bad, max_len) and `model` (the student's shape when it starts from scratch).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "data/format/special_tokens.hpp"

namespace autothink::train {

struct TrainSection {
  std::string stage = "pretrain";  // pretrain | distill | sft
  std::string init;                // model folder to start from ("" = from scratch with `model:`)
  std::string tokenizer;           // tokenizer.model or a folder holding one ("" = init's / teacher's)
  std::string teacher;             // teacher model folder (online KD)
  std::string teacher_topk;        // folder written by `autothink train dump-teacher` (offline KD)
  bool prune_teacher = false;      // start the student as the teacher width-pruned to `model:` (Minitron)
  int64_t prune_docs = 128;        // calibration documents for the pruning importance
  std::string out;                 // run folder (--out overrides)
  int64_t steps = 100;             // optimizer steps
  int64_t batch_size = 8;          // documents per micro-batch per rank
  int64_t grad_accum = 1;          // micro-batches per step
  double lr = 1e-3;
  double min_lr = 1e-4;
  int64_t warmup = 10;
  double weight_decay = 0.1;       // decoupled (AdamW); not applied to norms and biases
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  double clip = 1.0;               // max global grad norm (0 = no clipping)
  int64_t seed = 0;
  double ce_weight = 1.0;          // α
  double kd_weight = -1;           // β; -1 = 1 when a teacher is given, else 0
  double kd_temperature = 2.0;     // T
  double mtp_weight = 0.3;         // λ (each depth weighs λ/D)
  int64_t eval_every = 0;          // held-out loss every N steps (0 = only at the end)
  int64_t eval_docs = 256;         // dev documents evaluated (0 = all)
  int64_t save_every = 0;          // checkpoint every N steps (0 = only at the end)
  int64_t keep = 2;                // checkpoints kept
  int64_t stop_at = 0;             // stop after this step as if interrupted (tests of --resume)
  int64_t log_every = 1;
  bool bf16 = true;                // autocast to bf16 on CUDA
  double peak_flops = 0;           // per-device peak FLOP/s for MFU (0 = unknown, not logged)
  double dist_timeout_s = 300;
  double bucket_mb = 25;

  template <class V> void fields(V& v) {
    v("stage", stage, "pretrain | distill | sft (sft keeps each record's own judge and mode)");
    v("init", init, "model folder to start from (empty: from scratch with the `model:` shape)");
    v("tokenizer", tokenizer, "tokenizer.model (or a folder holding one); default: init's or teacher's");
    v("teacher", teacher, "teacher model folder for online KD (eval mode, no grad)");
    v("teacher_topk", teacher_topk, "folder of top-k teacher logits from `autothink train dump-teacher`");
    v("prune_teacher", prune_teacher,
      "start the student as the online teacher width-pruned to the `model:` shape (Minitron: keep the hidden "
      "channels and MLP neurons with the largest activations on training documents), instead of from scratch");
    v("prune_docs", prune_docs, "training documents that rank channels and neurons for prune_teacher");
    v("out", out, "run folder (config.yaml, metrics.jsonl, checkpoints/, model/)");
    v("steps", steps, "optimizer steps");
    v("batch_size", batch_size, "documents per micro-batch per rank");
    v("grad_accum", grad_accum, "micro-batches per optimizer step (global batch = world x batch_size x grad_accum)");
    v("lr", lr, "peak learning rate");
    v("min_lr", min_lr, "learning rate at the end of the cosine");
    v("warmup", warmup, "linear warmup steps");
    v("weight_decay", weight_decay, "AdamW decoupled weight decay (matrices only)");
    v("beta1", beta1, "AdamW beta1");
    v("beta2", beta2, "AdamW beta2");
    v("eps", eps, "AdamW epsilon");
    v("clip", clip, "max global gradient norm (0 = off)");
    v("seed", seed, "seed for init, data order and dropout");
    v("ce_weight", ce_weight, "alpha: weight of the next-token CE");
    v("kd_weight", kd_weight, "beta: weight of the KD term (-1: 1 with a teacher, else 0)");
    v("kd_temperature", kd_temperature, "T of the KD term (loss scaled by T^2)");
    v("mtp_weight", mtp_weight, "lambda: total weight of the MTP terms (lambda/D per depth)");
    v("eval_every", eval_every, "held-out loss every N steps (0 = at the end only)");
    v("eval_docs", eval_docs, "dev documents per evaluation (0 = all)");
    v("save_every", save_every, "checkpoint every N steps (0 = at the end only)");
    v("keep", keep, "checkpoints kept in the run folder");
    v("stop_at", stop_at, "stop after this step as if interrupted (0 = run to the end)");
    v("log_every", log_every, "metrics line every N steps");
    v("bf16", bf16, "bf16 autocast on CUDA");
    v("peak_flops", peak_flops, "peak FLOP/s per device for MFU (0 = not logged)");
    v("dist_timeout_s", dist_timeout_s, "seconds before a collective gives up (dead rank)");
    v("bucket_mb", bucket_mb, "gradient all-reduce bucket size (MB)");
  }
};

struct DataSection {
  std::vector<std::string> train;  // chat / synth JSONL files
  std::vector<std::string> dev;    // held-out JSONL files
  bool skip_bad = false;
  int64_t max_len = 1024;          // tokens per document (longer ones are cut)
  bool group_by_length = false;    // steps of similar-length documents: less padding
  std::string cache_dir;           // token shards ("" = <run>/shards)
  // The judge texts the model writes in auto mode (tag.judge_on / judge_off): forced turns are
  // rendered under them too, so answers are trained in the context auto mode uses.
  std::string auto_judge_on{format::kAutoJudgeOn};
  std::string auto_judge_off{format::kAutoJudgeOff};

  template <class V> void fields(V& v) {
    v("train", train, "training JSONL files (chat records, dual_mode.jsonl, or synth records)");
    v("dev", dev, "held-out JSONL files for the dev loss");
    v("skip_bad", skip_bad, "skip (and count) malformed records instead of failing");
    v("max_len", max_len, "tokens per document; longer documents are cut");
    v("group_by_length", group_by_length,
      "batch documents of similar length together (less padding; steps stay in random order)");
    v("cache_dir", cache_dir, "where token shards are cached (default <run>/shards)");
    v("auto_judge_on", auto_judge_on,
      "judge text the model writes before <think_on> in auto mode (= tag.judge_on): every forced-on turn is "
      "also trained under it, so the reasoning and answer are learned in that context (\"\" = not)");
    v("auto_judge_off", auto_judge_off,
      "judge text the model writes before <think_off> in auto mode (= tag.judge_off): every forced-off turn "
      "is also trained under it (\"\" = not)");
  }
};

// The student's shape when it starts from scratch (HF Qwen2 names).
struct ModelSection {
  int64_t vocab_size = 0;  // 0 = the tokenizer's
  int64_t hidden_size = 64;
  int64_t intermediate_size = 128;
  int64_t num_hidden_layers = 2;
  int64_t num_attention_heads = 4;
  int64_t num_key_value_heads = 2;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 1024;
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-6;
  bool tie_word_embeddings = true;
  int64_t mtp_depth = 0;
  double initializer_range = 0.02;

  template <class V> void fields(V& v) {
    v("vocab_size", vocab_size, "vocabulary (0 = the tokenizer's size)");
    v("hidden_size", hidden_size, "hidden size");
    v("intermediate_size", intermediate_size, "MLP size");
    v("num_hidden_layers", num_hidden_layers, "decoder layers");
    v("num_attention_heads", num_attention_heads, "attention heads");
    v("num_key_value_heads", num_key_value_heads, "KV heads (GQA)");
    v("head_dim", head_dim, "head size (0 = hidden / heads)");
    v("max_position_embeddings", max_position_embeddings, "context length");
    v("rope_theta", rope_theta, "rotary base");
    v("rms_norm_eps", rms_norm_eps, "RMSNorm epsilon");
    v("tie_word_embeddings", tie_word_embeddings, "share the embedding and the LM head");
    v("mtp_depth", mtp_depth, "MTP modules (DeepSeek-V3 style)");
    v("initializer_range", initializer_range, "init std");
  }
};

struct TrainConfig {
  TrainSection train;
  DataSection data;
  ModelSection model;
  bool has_model_section = false;
  std::string resolved_yaml;  // the whole config with overrides applied (for the run folder)
};

// Reads and validates the three sections; checks values (stage, positive sizes, a teacher for
// distill) with errors naming the key and file:line.
TrainConfig read_train_config(const core::Config& root);

}  // namespace autothink::train
