// The `model` complexity classifier: a logistic head on our model's own hidden state of the
// query (the output of decoder layer `layer`, mean over the query's tokens, standardised),
// trained from the cold-start tagging's labels (a record tagged think-on → HIGH). Saved beside the
// model: classifier.safetensors (weight [H], bias [1], mean [H], std [H], f32) + classifier.json
// ({"kind":"logistic","layer","pooling":"mean","threshold","train":{...}}). None of the routers we
// compare with (optillm's adaptive-classifier) is trained on the served model's own majority-vote
// tags; this one is. classify() runs a forward of `layer + 1` layers on the query: thread-safe
// among classifier calls (a mutex), read-only on the model, so it may run beside the engine.
#pragma once
#include <filesystem>
#include <memory>
#include <mutex>
#include <torch/torch.h>
#include <vector>

#include "data/complexity.hpp"
#include "data/records.hpp"
#include "data/tokenizer.hpp"
#include "model/qwen2.hpp"

namespace autothink::model {

struct ClassifierTrainOptions {
  int64_t layer = -1;           // -1: the middle layer (num_layers / 2)
  double heldout_fraction = 0.2;  // records whose id hashes into this fraction are held out
  int64_t steps = 300;          // full-batch Adam steps
  double lr = 0.05;
  double weight_decay = 1e-3;
  int64_t batch = 32;           // queries per feature forward
  uint64_t seed = 0;
};

struct ClassifierTrainReport {
  int64_t train = 0, heldout = 0, train_high = 0, heldout_high = 0;
  double train_accuracy = 0, heldout_accuracy = 0;
  double heldout_majority = 0;  // accuracy of always answering the held-out majority label
  double ms_per_query = 0;      // feature forward + head, measured on the held-out queries
  int64_t layer = 0;
};

class ModelComplexity : public data::ComplexityClassifier {
 public:
  // Loads classifier.safetensors + classifier.json from `dir` (the model folder). Throws
  // autothink::Error when they are missing (naming `autothink classifier train`) or do not fit.
  ModelComplexity(const std::filesystem::path& dir, std::shared_ptr<Qwen2Model> model,
                  std::shared_ptr<const data::Tokenizer> tokenizer);
  data::ComplexityResult classify(std::string_view query) const override;
  int64_t layer() const { return layer_; }

 private:
  std::shared_ptr<Qwen2Model> model_;
  std::shared_ptr<const data::Tokenizer> tokenizer_;
  int64_t layer_ = 0;
  double threshold_ = 0.5;
  torch::Tensor weight_, bias_, mean_, std_;
  mutable std::mutex mutex_;
};

// The pooled feature of each query: [N, H] f32.
torch::Tensor query_features(Qwen2Model& model, const data::Tokenizer& tokenizer, const std::vector<std::string>& queries,
                             int64_t layer, int64_t batch);

// Trains on tagged chat records (meta.decided_mode "on" → HIGH; records without it are an Error
// naming the record), writes the classifier into `out_dir`, returns the report. `progress` (may be
// null) gets (done, total) as features are computed.
ClassifierTrainReport train_complexity_classifier(Qwen2Model& model, const data::Tokenizer& tokenizer,
                                                  const std::vector<data::ChatRecord>& records,
                                                  const ClassifierTrainOptions& options,
                                                  const std::filesystem::path& out_dir,
                                                  const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace autothink::model
