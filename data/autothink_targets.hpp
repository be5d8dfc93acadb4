// The AutoThink result as checkable targets: what a run must show on held-out queries for the
// mission's claim ("thinks only when thinking pays: far fewer tokens at the same accuracy") to
// hold. Read from an eval report (eval.json, data::eval_report_to_json); the demo prints each
// target PASS / MISS after its last stage and `--strict` fails the run on a miss.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace autothink::data {

struct TargetCheck {
  std::string name;         // e.g. "easy think-on rate"
  std::string requirement;  // e.g. "<= 10%"
  std::string measured;     // e.g. "0.0%"
  bool pass = false;
};

// The targets (auto vs the same model's forced runs): on an equal mix of easy and hard, auto
// accuracy >= forced-on accuracy - 2 points; easy: auto accuracy >= forced-off - 2 points,
// think-on <= 10%, completion tokens <= 0.5x forced on; hard: think-on >= 90%, tokens <= 1.15x
// forced on; judge accuracy (all) >= 90%. Throws autothink::Error naming what the report lacks.
std::vector<TargetCheck> check_autothink_targets(const nlohmann::json& eval_report, const std::string& where);

// One line a target: "PASS  easy think-on rate  0.0% (<= 10%)".
std::string targets_to_text(const std::vector<TargetCheck>& checks);

}  // namespace autothink::data
