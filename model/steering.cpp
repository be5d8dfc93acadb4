// Steering records, the library and the per-sequence matcher (see steering.hpp).
#include "model/steering.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "data/tokenizer.hpp"
#include "data/unicode_text.hpp"

namespace autothink::model {

namespace {

constexpr size_t kMaxHistory = 256;   // SteeringHook.max_history
constexpr size_t kMaxPatternTokens = 256;  // create_tokenized_contexts' max_pts_tokens
constexpr size_t kTextBuffer = 500, kTextKey = 100;

std::u32string code_points(const std::string& text) {
  const std::string valid = data::replace_invalid_utf8(text);
  std::u32string out;
  for (size_t pos = 0; pos < valid.size();) out.push_back(data::next_code_point(valid, pos));
  return out;
}

std::u32string last(const std::u32string& s, size_t n) { return s.size() > n ? s.substr(s.size() - n) : s; }

template <class T>
double positional_similarity(const T& a, const T& b) {  // zip(a, b) equality over the shorter
  const size_t n = std::min(a.size(), b.size());
  if (n == 0) return 0.0;
  size_t same = 0;
  for (size_t i = 0; i < n; ++i) same += a[i] == b[i];
  return static_cast<double>(same) / static_cast<double>(n);
}

double clamp(double v, double lo, double hi) { return std::min(std::max(v, lo), hi); }

}  // namespace

const std::vector<std::string>& reasoning_patterns() {
  static const std::vector<std::string> p = {"depth_and_thoroughness", "numerical_accuracy", "self_correction",
                                             "exploration", "organization"};
  return p;
}

std::map<std::string, double> default_pattern_strengths() {
  return {{"depth_and_thoroughness", 2.5}, {"numerical_accuracy", 2.0}, {"self_correction", 3.0},
          {"exploration", 2.0},            {"organization", 1.5},       {"unknown", 1.0}};
}

std::vector<SteeringRecord> read_steering_records(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open the steering file", path.string(), "give a JSONL file written by `autothink pts`");
  std::vector<SteeringRecord> out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path.string() + ":" + std::to_string(number);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw Error(std::string("not valid JSON: ") + e.what(), where);
    }
    if (!j.is_object()) throw Error("a steering record must be a JSON object", where);
    SteeringRecord r;
    try {
      for (const char* key : {"pivot_context", "steering_vector"})
        if (!j.contains(key)) throw Error(std::string("the record has no '") + key + "'", where);
      r.pivot_context = j.at("pivot_context").get<std::string>();
      auto v = j.at("steering_vector");
      if (v.is_string()) v = nlohmann::json::parse(v.get<std::string>());  // PTS writes a list; optillm also takes a string
      if (!v.is_array() || v.empty()) throw Error("'steering_vector' must be a non-empty list of numbers", where);
      for (const auto& x : v) r.steering_vector.push_back(x.get<float>());
      r.pivot_token = j.value("pivot_token", "");
      r.pivot_token_id = j.value("pivot_token_id", int64_t{-1});
      r.prob_before = j.value("prob_before", 0.0);
      r.prob_after = j.value("prob_after", 0.0);
      r.prob_delta = j.value("prob_delta", 0.0);
      r.is_positive = j.value("is_positive", true);
      r.reasoning_pattern = j.value("reasoning_pattern", "unknown");
      r.cluster_id = j.value("cluster_id", int64_t{-1});
      r.steering_layer = j.value("steering_layer", int64_t{-1});
      r.task_type = j.value("task_type", "unknown");
      r.model_id = j.value("model_id", "");
    } catch (const nlohmann::json::exception& e) {
      throw Error(std::string("a field has the wrong type: ") + e.what(), where);
    }
    for (float x : r.steering_vector)
      if (!std::isfinite(x)) throw Error("'steering_vector' holds a non-finite number", where);
    out.push_back(std::move(r));
  }
  return out;
}

std::string steering_record_json(const SteeringRecord& r) {
  nlohmann::json j = {{"pivot_context", r.pivot_context},
                      {"pivot_token", r.pivot_token},
                      {"pivot_token_id", r.pivot_token_id},
                      {"prob_before", r.prob_before},
                      {"prob_after", r.prob_after},
                      {"prob_delta", r.prob_delta},
                      {"is_positive", r.is_positive},
                      {"steering_vector", r.steering_vector},
                      {"reasoning_pattern", r.reasoning_pattern},
                      {"cluster_id", r.cluster_id},
                      {"steering_layer", r.steering_layer},
                      {"task_type", r.task_type},
                      {"model_id", r.model_id}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void write_steering_records(const std::filesystem::path& path, const std::vector<SteeringRecord>& records) {
  std::ofstream out(path);
  if (!out) throw Error("cannot write the steering file", path.string());
  for (const auto& r : records) out << steering_record_json(r) << "\n";
  if (!out) throw Error("writing the steering file failed", path.string());
}

double steering_scale(const SteeringRecord& record, const SteeringOptions& options) {
  auto it = options.strengths.find(record.reasoning_pattern);
  const double strength = it != options.strengths.end() ? it->second : options.default_strength;
  return clamp(clamp(strength, 0.1, 2.0) * clamp(std::fabs(record.prob_delta), 0.1, 2.0), 0.0, 3.0);
}

SteeringLibrary::SteeringLibrary(std::vector<SteeringRecord> records, SteeringOptions options, int64_t hidden_size,
                                 int64_t num_layers, Encode encode, Decode decode)
    : records_(std::move(records)), options_(std::move(options)), encode_(std::move(encode)), decode_(std::move(decode)) {
  if (records_.empty()) throw Error("the steering file holds no records", "--steering");
  for (size_t i = 0; i < records_.size(); ++i) {
    const auto& r = records_[i];
    const std::string where = "steering record " + std::to_string(i + 1);
    if (static_cast<int64_t>(r.steering_vector.size()) != hidden_size)
      throw Error("its steering_vector has " + std::to_string(r.steering_vector.size()) + " numbers; the model's hidden size is " +
                      std::to_string(hidden_size),
                  where, "use vectors found on this model (autothink pts)");
    int64_t layer = options_.mode == SteeringMode::optillm || r.steering_layer < 0 ? options_.target_layer : r.steering_layer;
    if (layer < 0) throw Error("the record has no steering_layer and no target layer is set", where, "pass --steering-layer L");
    if (layer >= num_layers)
      throw Error("layer " + std::to_string(layer) + " does not exist (the model has " + std::to_string(num_layers) + " layers)",
                  where, "pass --steering-layer below the layer count");
    double norm = 0;
    for (float x : r.steering_vector) norm += static_cast<double>(x) * x;
    norm = std::max(std::sqrt(norm), 1e-12);  // torch.nn.functional.normalize's eps
    // optillm's _process_dataset_item drops is_positive, so its hook always adds.
    const bool subtract = !r.is_positive && options_.mode == SteeringMode::fixed;
    const double s = steering_scale(r, options_) * (subtract ? -1.0 : 1.0);
    SteeringVector v;
    v.layer = layer;
    v.pattern = r.reasoning_pattern;
    v.record = i;
    for (float x : r.steering_vector) v.delta.push_back(static_cast<float>(s * (x / norm)));
    vectors_.push_back(std::move(v));
    const std::u32string context = code_points(r.pivot_context);
    text_keys_.push_back(last(context, kTextKey));
    context_lengths_.push_back(context.size());
  }
  // optillm's tokenized_contexts dict: the full context (a later duplicate replaces the value in
  // place), then its 4/8/12-token suffixes where the key is new.
  auto find = [this](const std::vector<int64_t>& key) {
    return std::find_if(token_patterns_.begin(), token_patterns_.end(), [&](const auto& p) { return p.first == key; });
  };
  for (size_t i = 0; i < records_.size(); ++i) {
    if (records_[i].pivot_context.empty()) continue;
    std::vector<int64_t> ids = encode_(records_[i].pivot_context);
    if (ids.size() > kMaxPatternTokens) ids.erase(ids.begin(), ids.end() - kMaxPatternTokens);
    if (auto it = find(ids); it != token_patterns_.end())
      it->second = i;
    else
      token_patterns_.emplace_back(ids, i);
    for (size_t n : {4, 8, 12})
      if (ids.size() > n) {
        std::vector<int64_t> suffix(ids.end() - static_cast<std::ptrdiff_t>(n), ids.end());
        if (find(suffix) == token_patterns_.end()) token_patterns_.emplace_back(std::move(suffix), i);
      }
  }
}

std::shared_ptr<SteeringLibrary> load_steering_library(const std::filesystem::path& file, SteeringOptions options,
                                                       int64_t hidden_size, int64_t num_layers,
                                                       const data::Tokenizer& tokenizer) {
  const data::Tokenizer* tok = &tokenizer;
  return std::make_shared<SteeringLibrary>(
      read_steering_records(file), std::move(options), hidden_size, num_layers,
      [tok](const std::string& text) {
        auto ids = tok->encode_with_specials(text);
        return std::vector<int64_t>(ids.begin(), ids.end());
      },
      [tok](const std::vector<int64_t>& ids) { return tok->decode(std::vector<int>(ids.begin(), ids.end())); });
}

std::shared_ptr<SteeringMatcher> SteeringLibrary::matcher() const { return std::make_shared<SteeringMatcher>(*this); }

void SteeringMatcher::push_tokens(const std::vector<int64_t>& ids) {
  history_.insert(history_.end(), ids.begin(), ids.end());
  if (history_.size() > kMaxHistory) history_.erase(history_.begin(), history_.end() - kMaxHistory);
}

void SteeringMatcher::push_text(const std::string& text) {
  text_ += code_points(text);
  if (text_.size() > kTextBuffer) text_.erase(0, text_.size() - kTextBuffer);
}

const SteeringVector* SteeringMatcher::update(const SequenceView& view) {
  if (active_) return active_;
  const bool optillm = lib_.options_.mode == SteeringMode::optillm;
  if (!started_) {
    started_ = true;
    const std::string prompt_text = lib_.decode_(view.prompt);
    push_tokens(view.prompt);
    if (optillm) push_tokens(lib_.encode_(prompt_text));  // its update_context re-encodes the text
    push_text(prompt_text);
  }
  for (; seen_ < view.generated.size(); ++seen_) {
    const int64_t t = view.generated[seen_];
    const std::string piece = lib_.decode_({t});
    push_tokens({t});
    if (optillm) {  // process(): update_token_history twice, then update_context re-encodes
      push_tokens({t});
      push_tokens(lib_.encode_(piece));
    }
    push_text(piece);
  }
  if (try_token_match() || try_text_match()) return active_;
  return nullptr;
}

bool SteeringMatcher::try_token_match() {
  const auto& h = history_;
  if (h.size() < 4) return false;
  size_t best_len = 0;
  const SteeringVector* best = nullptr;
  for (const auto& [pattern, record] : lib_.token_patterns_) {
    const size_t n = pattern.size();
    if (h.size() < n) {
      const size_t m = std::min(h.size(), std::max<size_t>(4, n / 2));
      if (std::equal(h.end() - static_cast<std::ptrdiff_t>(m), h.end(), pattern.end() - static_cast<std::ptrdiff_t>(m)) &&
          m > best_len) {
        best_len = m;
        best = &lib_.vectors_[record];
      }
    } else if (n > 0 && std::equal(h.end() - static_cast<std::ptrdiff_t>(n), h.end(), pattern.begin()) && n >= best_len) {
      best_len = n;
      best = &lib_.vectors_[record];
    }
  }
  if (!best && h.size() >= 8) {  // fuzzy: >= 70% of positions equal
    for (const auto& [pattern, record] : lib_.token_patterns_) {
      if (pattern.size() < 8) continue;
      const size_t m = std::min(h.size(), pattern.size());
      const std::vector<int64_t> a(h.end() - static_cast<std::ptrdiff_t>(m), h.end());
      const std::vector<int64_t> b(pattern.end() - static_cast<std::ptrdiff_t>(m), pattern.end());
      if (positional_similarity(a, b) >= 0.7 && m > best_len) {
        best_len = m;
        best = &lib_.vectors_[record];
      }
    }
  }
  active_ = best;
  return best != nullptr;
}

bool SteeringMatcher::try_text_match() {
  if (text_.size() < 10) return false;
  const std::u32string key = last(text_, kTextKey);
  for (size_t i = 0; i < lib_.text_keys_.size(); ++i)
    if (lib_.text_keys_[i] == key) {
      active_ = &lib_.vectors_[i];
      return true;
    }
  if (key.size() < 20) return false;
  double best_similarity = 0;
  for (size_t i = 0; i < lib_.text_keys_.size(); ++i) {
    const auto& vkey = lib_.text_keys_[i];
    if (lib_.context_lengths_[i] < 20) continue;
    const double s = positional_similarity(key, vkey);
    if (s >= 0.7 && s > best_similarity) {
      best_similarity = s;
      active_ = &lib_.vectors_[i];
    }
  }
  return active_ != nullptr;
}

}  // namespace autothink::model
