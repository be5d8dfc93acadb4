// The adaptive think mode's decision (see autothink_policy.hpp).
#include "serve/autothink_policy.hpp"

namespace autothink::serve {

AutoThinkDecision decide_autothink(const AutoThinkOptions& options, const std::string& query) {
  static const data::HeuristicComplexity heuristic;
  AutoThinkDecision d;
  d.complexity = options.classifier ? options.classifier->classify(query) : heuristic.classify(query);
  d.budget = d.complexity.label == data::Complexity::high ? options.high : options.low;
  return d;
}

}  // namespace autothink::serve
