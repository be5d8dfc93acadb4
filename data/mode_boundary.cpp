// The mode boundary check (see mode_boundary.hpp).
#include "data/mode_boundary.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "core/error.hpp"
#include "data/format/think_mode.hpp"

namespace autothink::data {
namespace {

long long units_sum(const std::vector<long long>& t) {
  long long s = 0;
  for (long long x : t) s += x % 10;
  return s;
}
long long total(const std::vector<long long>& t) {
  long long s = 0;
  for (long long x : t) s += x;
  return s;
}
long long two_digit_terms(const std::vector<long long>& t) {
  return std::count_if(t.begin(), t.end(), [](long long x) { return x >= 10; });
}
// The carry into the hundreds: the tens digits plus the units' carry overflow.
bool tens_carry(const std::vector<long long>& t) {
  long long tens = units_sum(t) / 10;
  for (long long x : t) tens += x / 10 % 10;
  return tens >= 10;
}

struct Judged {
  format::ThinkMode tagged = format::ThinkMode::unknown, best = format::ThinkMode::unknown;
  double p_on = 0, p_off = 0;
  std::vector<long long> terms;
};

format::ThinkMode boundary_decided(const ChatRecord& r, const std::string& source) {
  const std::string where = source + ": record " + r.meta.id;
  if (!r.meta.extra.contains("decided_mode") || !r.meta.extra["decided_mode"].is_string())
    throw Error("the record has no meta.decided_mode", where, "give a file `autothink data tag` wrote");
  const auto mode = format::think_mode_from_string(r.meta.extra["decided_mode"].get<std::string>());
  if (!mode || *mode == format::ThinkMode::unknown) throw Error("meta.decided_mode is neither on nor off", where);
  return *mode;
}

double boundary_rate(const ChatRecord& r, const char* key, const std::string& source) {
  if (!r.meta.extra.contains(key) || !r.meta.extra[key].is_number())
    throw Error(std::string("the record has no numeric meta.") + key, source + ": record " + r.meta.id,
                "give a file `autothink data tag` wrote");
  return r.meta.extra[key].get<double>();
}

std::string boundary_question(const ChatRecord& r) {
  for (const auto& m : r.conversation.messages)
    if (m.role == "user") return m.content;
  return "";
}

FeatureScore score_feature(const QueryFeature& f, const std::vector<Judged>& queries) {
  FeatureScore s{f.name, f.description, true, 0, 0, 0, 0};
  int64_t agree = 0, on_true = 0, on_false = 0;
  for (const auto& q : queries) {
    const bool holds = f.holds(q.terms), on = q.best == format::ThinkMode::on;
    s.holds += holds;
    agree += holds == on;
    (holds ? on_true : on_false) += on;
  }
  const auto n = static_cast<double>(queries.size());
  s.agreement = static_cast<double>(agree) / n;
  if (s.agreement < 0.5) {  // the inverse rule is the better one
    s.predicts_on_when_true = false;
    s.agreement = 1.0 - s.agreement;
  }
  s.on_when_true = s.holds ? static_cast<double>(on_true) / static_cast<double>(s.holds) : 0;
  const int64_t not_holds = static_cast<int64_t>(queries.size()) - s.holds;
  s.on_when_false = not_holds ? static_cast<double>(on_false) / static_cast<double>(not_holds) : 0;
  return s;
}

std::string pct(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", 100.0 * x);
  return b;
}

}  // namespace

std::vector<long long> sum_terms(const std::string& question) {
  const std::string prefix = "What is ";
  if (question.rfind(prefix, 0) != 0 || question.empty() || question.back() != '?') return {};
  std::vector<long long> terms;
  std::istringstream in(question.substr(prefix.size(), question.size() - prefix.size() - 1));
  std::string token;
  bool want_number = true;
  while (in >> token) {
    if (want_number) {
      if (token.empty() || token.size() > 12 || !std::all_of(token.begin(), token.end(), ::isdigit)) return {};
      terms.push_back(std::stoll(token));
    } else if (token != "+") {
      return {};
    }
    want_number = !want_number;
  }
  if (want_number || terms.size() < 2) return {};
  return terms;
}

const std::vector<QueryFeature>& sum_features() {
  static const std::vector<QueryFeature> features = {
      {"three_terms", "the sum has three or more terms", [](const std::vector<long long>& t) { return t.size() >= 3; }},
      {"two_digit_terms>=2", "two or more terms have two digits",
       [](const std::vector<long long>& t) { return two_digit_terms(t) >= 2; }},
      {"two_digit_terms>=3", "three or more terms have two digits",
       [](const std::vector<long long>& t) { return two_digit_terms(t) >= 3; }},
      {"units_carry", "the units digits sum to 10 or more (a carry into the tens)",
       [](const std::vector<long long>& t) { return units_sum(t) >= 10; }},
      {"tens_carry", "the tens column overflows (a carry into the hundreds)",
       [](const std::vector<long long>& t) { return tens_carry(t); }},
      {"any_carry", "either column carries", [](const std::vector<long long>& t) { return units_sum(t) >= 10 || tens_carry(t); }},
      {"both_carry", "both columns carry", [](const std::vector<long long>& t) { return units_sum(t) >= 10 && tens_carry(t); }},
      {"sum_over_100", "the sum is 100 or more", [](const std::vector<long long>& t) { return total(t) >= 100; }},
      {"round_term", "a term ends in 0 (its units need no work)",
       [](const std::vector<long long>& t) { return std::any_of(t.begin(), t.end(), [](long long x) { return x % 10 == 0; }); }},
  };
  return features;
}

BoundaryReport mode_boundary(const std::vector<ChatRecord>& tagged, const std::vector<ChatRecord>& reference,
                             const std::string& difficulty, int64_t reference_samples, const std::string& tagged_source,
                             const std::string& reference_source) {
  std::map<std::string, const ChatRecord*> tags;
  for (const auto& r : tagged)
    if (r.meta.difficulty == difficulty) tags[r.meta.id] = &r;
  std::vector<Judged> queries;
  for (const auto& r : reference) {
    if (r.meta.difficulty != difficulty) continue;
    auto it = tags.find(r.meta.id);
    if (it == tags.end()) continue;
    Judged j;
    j.tagged = boundary_decided(*it->second, tagged_source);
    j.best = boundary_decided(r, reference_source);
    j.p_on = boundary_rate(r, "p_on", reference_source);
    j.p_off = boundary_rate(r, "p_off", reference_source);
    j.terms = sum_terms(boundary_question(r));
    queries.push_back(std::move(j));
  }
  if (queries.empty())
    throw Error("no " + difficulty + " query is in both " + tagged_source + " and " + reference_source, reference_source,
                "tag the same queries twice: the cold start, then `data tag --difficulty " + difficulty +
                    " --set tag.samples_per_mode=8` into another file");

  BoundaryReport report;
  report.difficulty = difficulty;
  report.queries = static_cast<int64_t>(queries.size());
  report.reference_samples = reference_samples;
  int64_t best_on = 0, tagged_on = 0;
  for (const auto& q : queries) {
    report.mean_p_on += q.p_on;
    report.mean_p_off += q.p_off;
    best_on += q.best == format::ThinkMode::on;
    tagged_on += q.tagged == format::ThinkMode::on;
    if (q.tagged != q.best) (q.tagged == format::ThinkMode::on ? report.tagged_on_best_off : report.tagged_off_best_on) += 1;
  }
  const auto n = static_cast<double>(queries.size());
  report.mean_p_on /= n;
  report.mean_p_off /= n;
  report.best_on_rate = static_cast<double>(best_on) / n;
  report.tagged_on_rate = static_cast<double>(tagged_on) / n;
  report.disagreement = static_cast<double>(report.tagged_on_best_off + report.tagged_off_best_on) / n;
  report.majority_agreement = std::max(report.best_on_rate, 1.0 - report.best_on_rate);
  // Features read sums only: every query must be one, or the scores would mix in unread queries.
  const bool all_sums = std::all_of(queries.begin(), queries.end(), [](const Judged& q) { return !q.terms.empty(); });
  if (all_sums)
    for (const auto& f : sum_features()) report.features.push_back(score_feature(f, queries));
  std::stable_sort(report.features.begin(), report.features.end(),
                   [](const FeatureScore& a, const FeatureScore& b) { return a.agreement > b.agreement; });
  return report;
}

nlohmann::json boundary_to_json(const BoundaryReport& r) {
  nlohmann::json features = nlohmann::json::array();
  for (const auto& f : r.features)
    features.push_back({{"name", f.name},
                        {"description", f.description},
                        {"rule", f.predicts_on_when_true ? "on iff " + f.name : "on iff not " + f.name},
                        {"agreement", f.agreement},
                        {"holds", f.holds},
                        {"best_on_when_true", f.on_when_true},
                        {"best_on_when_false", f.on_when_false}});
  return {{"difficulty", r.difficulty},
          {"queries", r.queries},
          {"reference_samples_per_mode", r.reference_samples},
          {"mean_p_on", r.mean_p_on},
          {"mean_p_off", r.mean_p_off},
          {"best_on_rate", r.best_on_rate},
          {"tagged_on_rate", r.tagged_on_rate},
          {"disagreement", r.disagreement},
          {"tagged_on_best_off", r.tagged_on_best_off},
          {"tagged_off_best_on", r.tagged_off_best_on},
          {"majority_agreement", r.majority_agreement},
          {"features", features}};
}

std::string boundary_text(const BoundaryReport& r) {
  std::ostringstream out;
  out << r.difficulty << ": " << r.queries << " queries in both taggings";
  if (r.reference_samples > 0) out << " (reference: " << r.reference_samples << " samples per mode)";
  out << "\n  forced-off pass rate " << pct(r.mean_p_off) << ", forced-on " << pct(r.mean_p_on) << "\n";
  out << "  best mode on for " << pct(r.best_on_rate) << ", cold-start tags on for " << pct(r.tagged_on_rate) << "\n";
  out << "  tags disagree with the best mode on " << pct(r.disagreement) << " (" << r.tagged_on_best_off
      << " tagged on where off is best, " << r.tagged_off_best_on << " tagged off where on is best)\n";
  if (r.features.empty()) {
    out << "  (no features: the queries are not all sums)\n";
    return out.str();
  }
  out << "  the best mode from one feature of the query (a constant rule: " << pct(r.majority_agreement) << "):\n";
  char line[256];
  for (const auto& f : r.features) {
    std::snprintf(line, sizeof line, "    %-28s %6s   (holds on %lld; best on: %s when it holds, %s when not)\n",
                  ((f.predicts_on_when_true ? "on iff " : "on iff not ") + f.name).c_str(), pct(f.agreement).c_str(),
                  static_cast<long long>(f.holds), pct(f.on_when_true).c_str(), pct(f.on_when_false).c_str());
    out << line;
  }
  return out.str();
}

}  // namespace autothink::data
