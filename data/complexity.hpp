// Query complexity for inference-time AutoThink (optillm's method): a classifier labels the
// query (the last user message) HIGH or LOW, and the label picks the thinking budget. Two
// classifiers share this interface: `heuristic` (optillm's _fallback_classification, exactly) and
// `model` (a logistic head on our model's hidden state, trained from the cold-start tags:
// model/complexity_model.hpp).
#pragma once
#include <string>
#include <string_view>

namespace autothink::data {

enum class Complexity { low, high };
const char* complexity_name(Complexity c);  // "LOW" | "HIGH"

struct ComplexityResult {
  Complexity label = Complexity::low;
  double score = 0;        // the label's confidence (heuristic: optillm's fixed 0.7 / 0.8)
  double raw = 0;          // the classifier's own number (heuristic: optillm's complexity_score; model: P(HIGH))
  std::string classifier;  // "heuristic" | "model"
};

class ComplexityClassifier {
 public:
  virtual ~ComplexityClassifier() = default;
  virtual ComplexityResult classify(std::string_view query) const = 0;
};

// optillm's rule: count = how many of its 20 indicators occur as substrings of the lower-cased
// query ("how" matches "show"); score = min(len/100, 2) · min(count/3, 1.5) with len in code
// points; HIGH (0.7) when score > 1, else LOW (0.8).
class HeuristicComplexity : public ComplexityClassifier {
 public:
  ComplexityResult classify(std::string_view query) const override;
};

}  // namespace autothink::data
