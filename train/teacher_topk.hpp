// Offline KD: a teacher's top-k logits per loss token, written once by
// `autothink train dump-teacher` and read by the trainer instead of running the teacher.
// Folder layout: DIR/teacher_topk.safetensors with
//   ids          I32 [N, K]   the teacher's top-k token ids at each masked target position
//   logits       F32 [N, K]   their (untempered) logits
//   doc_offsets  I64 [D + 1]  rows of document d: [doc_offsets[d], doc_offsets[d+1])
// and metadata {"format": "autothink-teacher-topk-v1", "top_k", "documents", "tokens"}.
// Rows follow the token shard's documents in order and, within a document, its masked targets
// (position t-1 predicting token t where mask[t] = 1) in order — the order in which the trainer
// selects the student's rows. The KD over this support is described at kd_topk_sum (losses.hpp).
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/safetensors.hpp"
#include "data/batcher.hpp"
#include "data/token_shard.hpp"
#include "data/token_shard_build.hpp"
#include "train/train_config.hpp"

namespace autothink::train {

class TopkTeacher {
 public:
  // Maps the dump and checks it matches `shard` (same documents, same masked targets per document).
  TopkTeacher(const std::filesystem::path& dir, const data::TokenShard& shard);
  int64_t top_k() const { return top_k_; }
  // The teacher rows for a batch built from `docs` (same order as the student's masked rows):
  // ids [N, K] int64 and logits [N, K] f32 on `device`.
  std::pair<torch::Tensor, torch::Tensor> rows_for(const std::vector<std::size_t>& docs, const data::Batch& batch,
                                                   torch::Device device) const;

 private:
  safetensors::SafetensorsFile file_;
  const int32_t* ids_ = nullptr;
  const float* logits_ = nullptr;
  const int64_t* offsets_ = nullptr;
  int64_t top_k_ = 0, rows_ = 0;
};

struct DumpTeacherOptions {
  std::string teacher;               // model folder (its tokenizer.model is used)
  std::vector<std::string> data;     // JSONL files (as data.train)
  std::string out;                   // folder
  int64_t top_k = 32;
  Stage stage = Stage::distill;      // rendering: sft keeps own modes, else dual mode
  bool skip_bad = false;
  int64_t max_len = 1024;
  int64_t batch_size = 8;
  data::AutoJudges auto_judges{std::string(format::kAutoJudgeOn), std::string(format::kAutoJudgeOff)};
};

// Writes DIR/teacher_topk.safetensors (and the token shard under DIR/shards). Returns the rows written.
int64_t dump_teacher_topk(const DumpTeacherOptions& options);

}  // namespace autothink::train
