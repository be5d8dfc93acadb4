// The model-based complexity classifier: features, training, save and load (see complexity_model.hpp).
#include "model/complexity_model.hpp"

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/safetensors.hpp"

namespace autothink::model {

namespace fs = std::filesystem;
namespace st = safetensors;

namespace {

uint64_t fnv1a(const std::string& s) {  // stable across runs and machines: the held-out split
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

st::RawTensor raw_f32(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat).contiguous().cpu();
  const auto* p = reinterpret_cast<const uint8_t*>(c.data_ptr<float>());
  return st::RawTensor::owned(st::DType::F32, c.sizes().vec(), std::vector<uint8_t>(p, p + c.numel() * 4));
}

torch::Tensor tensor_of(const st::RawTensor& raw, const std::string& where) {
  if (raw.dtype != st::DType::F32) throw Error("classifier tensors must be f32", where);
  return torch::from_blob(const_cast<uint8_t*>(raw.data()), raw.shape, torch::kFloat).clone();
}

double accuracy(const torch::Tensor& prob, const torch::Tensor& labels) {
  if (labels.numel() == 0) return 0.0;
  return prob.ge(0.5).to(torch::kFloat).eq(labels).to(torch::kFloat).mean().item<double>();
}

}  // namespace

torch::Tensor query_features(Qwen2Model& model, const data::Tokenizer& tokenizer, const std::vector<std::string>& queries,
                             int64_t layer, int64_t batch) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (size_t start = 0; start < queries.size(); start += static_cast<size_t>(batch)) {
    const size_t end = std::min(queries.size(), start + static_cast<size_t>(batch));
    std::vector<std::vector<int>> ids;
    int64_t longest = 1;
    for (size_t i = start; i < end; ++i) {
      ids.push_back(tokenizer.encode_text(queries[i]));
      if (ids.back().empty()) ids.back().push_back(tokenizer.pad_id());
      longest = std::max<int64_t>(longest, static_cast<int64_t>(ids.back().size()));
    }
    const auto B = static_cast<int64_t>(ids.size());
    auto input = torch::full({B, longest}, tokenizer.pad_id(), torch::kLong);
    auto mask = torch::zeros({B, longest, 1}, torch::kFloat);
    for (int64_t b = 0; b < B; ++b)
      for (size_t t = 0; t < ids[b].size(); ++t) {
        input[b][static_cast<int64_t>(t)] = ids[b][t];
        mask[b][static_cast<int64_t>(t)][0] = 1.0f;
      }
    ResidualHooks hooks;
    hooks.capture = {layer};
    // Causal attention: right padding never reaches the real tokens' states.
    model.forward_hidden(input.to(model.device()), &hooks);
    AUTOTHINK_CHECK(hooks.captured.size() == 1, "query_features: the layer output was not captured");
    auto h = hooks.captured[0].to(torch::kFloat).cpu();
    out.push_back((h * mask).sum(1) / mask.sum(1));
  }
  if (out.empty()) return torch::zeros({0, model.config().hidden_size});
  return torch::cat(out, 0);
}

ClassifierTrainReport train_complexity_classifier(Qwen2Model& model, const data::Tokenizer& tokenizer,
                                                  const std::vector<data::ChatRecord>& records,
                                                  const ClassifierTrainOptions& options, const fs::path& out_dir,
                                                  const std::function<void(int64_t, int64_t)>& progress) {
  const int64_t layers = model.config().num_hidden_layers;
  ClassifierTrainReport report;
  report.layer = options.layer < 0 ? layers / 2 : options.layer;
  if (report.layer >= layers)
    throw Error("layer " + std::to_string(report.layer) + " does not exist (the model has " + std::to_string(layers) + ")",
                "--layer");
  std::vector<std::string> queries[2];
  std::vector<float> labels[2];
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    const std::string where = "record " + std::to_string(i + 1) + (r.meta.id.empty() ? "" : " (" + r.meta.id + ")");
    if (!r.meta.extra.contains("decided_mode") || !r.meta.extra["decided_mode"].is_string())
      throw Error("the record has no meta.decided_mode", where, "give the output of `autothink data tag`");
    const std::string mode = r.meta.extra["decided_mode"].get<std::string>();
    if (mode != "on" && mode != "off") throw Error("meta.decided_mode must be on or off, not '" + mode + "'", where);
    const std::string query = format::last_user_message(r.conversation);
    if (query.empty()) throw Error("the record has no user message", where);
    const std::string key = r.meta.id.empty() ? query : r.meta.id;
    const bool held = static_cast<double>(fnv1a(key) % 10000) < options.heldout_fraction * 10000.0;
    queries[held].push_back(query);
    labels[held].push_back(mode == "on" ? 1.0f : 0.0f);
  }
  if (queries[0].empty()) throw Error("no training records", "--tagged");
  const auto total = static_cast<int64_t>(queries[0].size() + queries[1].size());
  auto train_x = query_features(model, tokenizer, queries[0], report.layer, options.batch);
  if (progress) progress(static_cast<int64_t>(queries[0].size()), total);
  const auto t0 = std::chrono::steady_clock::now();
  auto held_x = query_features(model, tokenizer, queries[1], report.layer, options.batch);
  const double feature_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (progress) progress(total, total);
  auto train_y = torch::tensor(labels[0]), held_y = torch::tensor(labels[1]);

  auto mean = train_x.mean(0);
  auto std = train_x.std(0).clamp_min(1e-6);
  auto xs = (train_x - mean) / std;
  torch::manual_seed(options.seed);
  auto w = torch::zeros({xs.size(1)}, torch::requires_grad());
  auto b = torch::zeros({1}, torch::requires_grad());
  torch::optim::Adam opt({w, b}, torch::optim::AdamOptions(options.lr).weight_decay(options.weight_decay));
  for (int64_t step = 0; step < options.steps; ++step) {
    opt.zero_grad();
    auto loss = torch::binary_cross_entropy_with_logits(xs.matmul(w) + b, train_y);
    loss.backward();
    opt.step();
  }
  torch::NoGradGuard no_grad;
  auto predict = [&](const torch::Tensor& x) { return torch::sigmoid(((x - mean) / std).matmul(w) + b); };
  report.train = xs.size(0);
  report.heldout = held_x.size(0);
  report.train_high = static_cast<int64_t>(train_y.sum().item<double>());
  report.heldout_high = static_cast<int64_t>(held_y.sum().item<double>());
  report.train_accuracy = accuracy(predict(train_x), train_y);
  report.heldout_accuracy = accuracy(predict(held_x), held_y);
  if (report.heldout > 0) {
    const double high = static_cast<double>(report.heldout_high) / static_cast<double>(report.heldout);
    report.heldout_majority = std::max(high, 1.0 - high);
    report.ms_per_query = feature_ms / static_cast<double>(report.heldout);
  }

  fs::create_directories(out_dir);
  st::write_safetensors(out_dir / "classifier.safetensors",
                        {{"weight", raw_f32(w.detach())}, {"bias", raw_f32(b.detach())}, {"mean", raw_f32(mean)}, {"std", raw_f32(std)}});
  nlohmann::ordered_json j = {
      {"kind", "logistic"}, {"layer", report.layer}, {"pooling", "mean"}, {"threshold", 0.5},
      {"label", "HIGH = the cold-start tag is think-on"},
      {"train", {{"records", report.train}, {"high", report.train_high}, {"accuracy", report.train_accuracy},
                 {"heldout", report.heldout}, {"heldout_high", report.heldout_high},
                 {"heldout_accuracy", report.heldout_accuracy}, {"heldout_majority", report.heldout_majority},
                 {"steps", options.steps}, {"lr", options.lr}, {"weight_decay", options.weight_decay}}}};
  std::ofstream(out_dir / "classifier.json") << j.dump(2) << "\n";
  return report;
}

ModelComplexity::ModelComplexity(const fs::path& dir, std::shared_ptr<Qwen2Model> model,
                                 std::shared_ptr<const data::Tokenizer> tokenizer)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)) {
  const fs::path config = dir / "classifier.json", weights = dir / "classifier.safetensors";
  if (!fs::exists(config) || !fs::exists(weights))
    throw Error("the model folder has no complexity classifier (classifier.json + classifier.safetensors)", dir.string(),
                "train one: autothink classifier train --model " + dir.string() + " --tagged TAGGED.jsonl");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(std::ifstream(config));
    if (j.value("kind", "") != "logistic") throw Error("classifier kind must be \"logistic\"", config.string());
    layer_ = j.at("layer").get<int64_t>();
    threshold_ = j.value("threshold", 0.5);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("classifier.json is not valid: ") + e.what(), config.string());
  }
  if (layer_ < 0 || layer_ >= model_->config().num_hidden_layers)
    throw Error("the classifier reads layer " + std::to_string(layer_) + ", which this model lacks", config.string());
  auto file = st::read_safetensors(weights);
  for (const char* name : {"weight", "bias", "mean", "std"})
    if (!file.tensors.count(name)) throw Error(std::string("tensor '") + name + "' is missing", weights.string());
  weight_ = tensor_of(file.tensors.at("weight"), weights.string());
  bias_ = tensor_of(file.tensors.at("bias"), weights.string());
  mean_ = tensor_of(file.tensors.at("mean"), weights.string());
  std_ = tensor_of(file.tensors.at("std"), weights.string());
  const int64_t H = model_->config().hidden_size;
  if (weight_.numel() != H || mean_.numel() != H || std_.numel() != H || bias_.numel() != 1)
    throw Error("the classifier was trained on a model of another hidden size", weights.string());
}

data::ComplexityResult ModelComplexity::classify(std::string_view query) const {
  std::lock_guard<std::mutex> lock(mutex_);
  torch::NoGradGuard no_grad;
  auto x = query_features(*model_, *tokenizer_, {std::string(query)}, layer_, 1)[0];
  const double p = torch::sigmoid(((x - mean_) / std_).dot(weight_) + bias_[0]).item<double>();
  data::ComplexityResult r;
  r.classifier = "model";
  r.raw = p;
  r.label = p >= threshold_ ? data::Complexity::high : data::Complexity::low;
  r.score = r.label == data::Complexity::high ? p : 1.0 - p;
  return r;
}

}  // namespace autothink::model
