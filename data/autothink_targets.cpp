// The AutoThink targets (see autothink_targets.hpp).
#include "data/autothink_targets.hpp"

#include <cstdio>

#include "core/error.hpp"

namespace autothink::data {
namespace {

const nlohmann::json& group(const nlohmann::json& report, const std::string& name, const std::string& where) {
  if (report.contains("groups") && report["groups"].is_array())
    for (const auto& g : report["groups"])
      if (g.value("name", "") == name) return g;
  throw Error("the eval report has no '" + name + "' group", where,
              "evaluate held-out queries of both difficulties (autothink eval --data test.jsonl)");
}

double number(const nlohmann::json& j, const std::string& a, const std::string& b, const std::string& where) {
  if (!j.contains(a) || !j[a].contains(b) || !j[a][b].is_number())
    throw Error("the eval report lacks " + a + "." + b, where);
  return j[a][b].get<double>();
}

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * x);
  return buf;
}

std::string ratio(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", x);
  return buf;
}

}  // namespace

std::vector<TargetCheck> check_autothink_targets(const nlohmann::json& report, const std::string& where) {
  const auto& easy = group(report, "easy", where);
  const auto& hard = group(report, "hard", where);
  const auto& all = group(report, "all", where);
  const double mix_auto = (number(easy, "auto", "accuracy", where) + number(hard, "auto", "accuracy", where)) / 2;
  const double mix_on = (number(easy, "on", "accuracy", where) + number(hard, "on", "accuracy", where)) / 2;
  const double easy_auto = number(easy, "auto", "accuracy", where), easy_off = number(easy, "off", "accuracy", where);
  const double easy_tokens = number(easy, "auto", "mean_completion_tokens", where) /
                             number(easy, "on", "mean_completion_tokens", where);
  const double hard_tokens = number(hard, "auto", "mean_completion_tokens", where) /
                             number(hard, "on", "mean_completion_tokens", where);
  const double easy_think = number(easy, "auto", "think_on_rate", where);
  const double hard_think = number(hard, "auto", "think_on_rate", where);
  if (!all.contains("judge_accuracy")) throw Error("the eval report lacks all.judge_accuracy", where);
  const double judge = all["judge_accuracy"].get<double>();
  constexpr double kPoints = 0.02 + 1e-9;  // "within 2 points", robust to rounding
  return {
      {"mix accuracy, auto vs forced on", ">= forced on - 2 points (" + percent(mix_on) + ")", percent(mix_auto),
       mix_auto >= mix_on - kPoints},
      {"easy accuracy, auto vs forced off", ">= forced off - 2 points (" + percent(easy_off) + ")", percent(easy_auto),
       easy_auto >= easy_off - kPoints},
      {"easy think-on rate", "<= 10%", percent(easy_think), easy_think <= 0.10 + 1e-9},
      {"easy tokens, auto / forced on", "<= 0.50x", ratio(easy_tokens), easy_tokens <= 0.50 + 1e-9},
      {"hard think-on rate", ">= 90%", percent(hard_think), hard_think >= 0.90 - 1e-9},
      {"hard tokens, auto / forced on", "<= 1.15x", ratio(hard_tokens), hard_tokens <= 1.15 + 1e-9},
      {"judge accuracy", ">= 90%", percent(judge), judge >= 0.90 - 1e-9},
  };
}

std::string targets_to_text(const std::vector<TargetCheck>& checks) {
  std::string out;
  char buf[256];
  for (const auto& c : checks) {
    std::snprintf(buf, sizeof buf, "  %s  %-36s %8s  (%s)\n", c.pass ? "PASS" : "MISS", c.name.c_str(), c.measured.c_str(),
                  c.requirement.c_str());
    out += buf;
  }
  return out;
}

}  // namespace autothink::data
