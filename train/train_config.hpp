// The config sections `autothink train` reads (validated: unknown key or wrong type → error naming
// the key and file:line): `train` (stage, optimisation, losses, checkpoints), `data` (inputs,
// skip_bad, max_len) and `model` (the student's shape when it starts from scratch).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "data/format/special_tokens.hpp"
#include "data/token_shard_build.hpp"
#include "model/model_config.hpp"
#include "train/run_settings.hpp"

namespace autothink::train {

enum class Stage { pretrain, distill, sft };

struct TrainSection {
  Stage stage = Stage::pretrain;   // sft keeps each record's own judge and mode
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
  OptimizerSettings optimizer;     // lr ... clip (train/run_settings.hpp)
  int64_t seed = 0;
  double ce_weight = 1.0;          // α
  double kd_weight = -1;           // β; -1 = 1 when a teacher is given, else 0
  double kd_temperature = 2.0;     // T
  double mtp_weight = 0.3;         // λ (each depth weighs λ/D)
  int64_t eval_every = 0;          // held-out loss every N steps (0 = only at the end)
  int64_t eval_docs = 256;         // dev documents evaluated (0 = all)
  RunSettings run;                 // save_every, keep, log_every, dist_timeout_s, bucket_mb
  bool bf16 = true;                // autocast to bf16 on CUDA
  double peak_flops = 0;           // per-device peak FLOP/s for MFU (0 = unknown, not logged)

  template <class V> void fields(V& v) {
    v("stage", stage, "pretrain | distill | sft (sft keeps each record's own judge and mode)");
    v("init", init, "model folder to start from (empty: from scratch with the `model:` shape)");
    v("tokenizer", tokenizer, "tokenizer.model or tokenizer.json (or a folder holding one); default: init's or teacher's");
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
    optimizer.fields(v);
    v("seed", seed, "seed for init, data order and dropout");
    v("ce_weight", ce_weight, "alpha: weight of the next-token CE");
    v("kd_weight", kd_weight, "beta: weight of the KD term (-1: 1 with a teacher, else 0)");
    v("kd_temperature", kd_temperature, "T of the KD term (loss scaled by T^2)");
    v("mtp_weight", mtp_weight, "lambda: total weight of the MTP terms (lambda/D per depth)");
    v("eval_every", eval_every, "held-out loss every N steps (0 = at the end only)");
    v("eval_docs", eval_docs, "dev documents per evaluation (0 = all)");
    run.fields(v);
    v("bf16", bf16, "bf16 autocast on CUDA");
    v("peak_flops", peak_flops, "peak FLOP/s per device for MFU (0 = not logged)");
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

// The student's shape when it starts from scratch: model::ModelConfig's shape keys (HF Qwen2
// names), with a tiny model's defaults.
struct ModelSection {
  model::ModelConfig shape = tiny_shape();

  static model::ModelConfig tiny_shape() {
    model::ModelConfig c;
    c.vocab_size = 0;  // the tokenizer's
    c.hidden_size = 64;
    c.intermediate_size = 128;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.head_dim = 0;
    c.max_position_embeddings = 1024;
    c.tie_word_embeddings = true;
    return c;
  }
  template <class V> void fields(V& v) { shape.shape_fields(v); }
};

struct TrainConfig {
  TrainSection train;
  DataSection data;
  ModelSection model;
  bool has_model_section = false;
  std::string resolved_yaml;  // the whole config with overrides applied (for the run folder)
};

// Reads and validates the three sections; checks values (positive sizes, a teacher for distill)
// with errors naming the key and file:line.
TrainConfig read_train_config(const core::Config& root);

// How a stage renders its records: sft keeps each record's own judge and mode, pretrain and
// distill train both modes (data/token_shard_build.hpp).
data::RenderStyle render_style_for(Stage stage);

}  // namespace autothink::train

template <> struct autothink::core::ConfigEnum<autothink::train::Stage> {
  static constexpr std::pair<autothink::train::Stage, const char*> names[] = {
      {autothink::train::Stage::pretrain, "pretrain"},
      {autothink::train::Stage::distill, "distill"},
      {autothink::train::Stage::sft, "sft"}};
};

namespace autothink::train {

}  // namespace autothink::train
