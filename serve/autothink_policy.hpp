// Inference-time AutoThink (optillm's method) as the server runs it for think_mode "adaptive":
// the complexity classifier labels the query (the last user message), the label picks the
// thinking budget {min, max} (optillm: HIGH 1024-4096, LOW 256-1024, at most 64 thoughts), the
// prompt forces thinking, the engine's think budget (model/think_budget.hpp) keeps the model
// thinking until min with continuation cues and closes at max, and, when the server was given
// steering vectors, each sequence's matcher steers it (model/steering.hpp). All loaded once at
// start-up and shared by every request.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/complexity.hpp"
#include "data/format/template.hpp"
#include "model/steering.hpp"
#include "model/think_budget.hpp"

namespace autothink::serve {

struct BudgetRange {
  int min = 0, max = 0;
};

struct AutoThinkOptions {
  std::shared_ptr<const data::ComplexityClassifier> classifier;  // null: the heuristic
  BudgetRange high{1024, 4096}, low{256, 1024};
  int max_thoughts = 64;
  std::vector<std::string> cues = model::default_continuation_cues();
  std::shared_ptr<const model::SteeringLibrary> steering;  // null: no steering
};

struct AutoThinkDecision {
  data::ComplexityResult complexity;
  BudgetRange budget;
};

// `query`: the last user message (format::last_user_message), as optillm classifies.
AutoThinkDecision decide_autothink(const AutoThinkOptions& options, const std::string& query);

}  // namespace autothink::serve
