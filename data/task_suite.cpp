// The built-in task families (see task_suite.hpp).
#include "data/task_suite.hpp"

#include "core/error.hpp"
#include "data/solver.hpp"

namespace autothink::data {
namespace {

SynthRecord suite_record(const std::string& family, const std::string& difficulty, const std::string& key,
                         const Solved& solved) {
  return {family + "/" + key, family, difficulty, solved.question, solved.answer, solved.cot};
}

std::string suite_join(const std::vector<long long>& xs, const std::string& sep) {
  std::string s;
  for (size_t i = 0; i < xs.size(); ++i) s += (i ? sep : "") + std::to_string(xs[i]);
  return s;
}

std::vector<TaskFamily> suite_make_families() {
  std::vector<TaskFamily> families;

  TaskFamily add_easy{"add_easy", "easy", "numeric", "What is 38 + 6?", nullptr, nullptr};
  add_easy.enumerate = []() {
    std::vector<SynthRecord> all;
    for (long long a = 0; a < 100; ++a)
      for (long long b = 0; b < 10; ++b) all.push_back(suite_record("add_easy", "easy", suite_join({a, b}, "+"), solve_sum({a, b})));
    return all;
  };
  families.push_back(add_easy);

  // Half two two-digit numbers, half three terms (one to three of them two-digit, the rest one
  // digit, in any order): the demo's student answers the two-term sums directly (90%, greedy) and
  // few of the three-term ones (a teacher trained on them: 5%), so the best mode depends on the
  // query (the medium difficulty, DESIGN §3). Each form alone did not qualify.
  TaskFamily add_medium{"add_medium", "medium", "numeric", "What is 38 + 47? / What is 38 + 7 + 45?", nullptr, nullptr};
  add_medium.sample = [](std::mt19937_64& rng) {
    std::vector<long long> terms;
    if (uniform_int(rng, 0, 1) == 0) {
      terms = {uniform_int(rng, 10, 99), uniform_int(rng, 10, 99)};
    } else {
      const long long two_digit = uniform_int(rng, 1, 3);
      for (long long i = 0; i < 3; ++i) terms.push_back(i < two_digit ? uniform_int(rng, 10, 99) : uniform_int(rng, 1, 9));
      stable_shuffle(terms, rng);
    }
    return suite_record("add_medium", "medium", suite_join(terms, "+"), solve_sum(terms));
  };
  families.push_back(add_medium);

  TaskFamily add_hard{"add_hard", "hard", "numeric", "What is 38 + 47 + 19 + 26?", nullptr, nullptr};
  add_hard.sample = [](std::mt19937_64& rng) {
    std::vector<long long> terms;
    for (int i = 0; i < 4; ++i) terms.push_back(uniform_int(rng, 10, 99));
    return suite_record("add_hard", "hard", suite_join(terms, "+"), solve_sum(terms));
  };
  families.push_back(add_hard);

  TaskFamily compare{"compare_easy", "easy", "numeric", "Which is larger, 47 or 74?", nullptr, nullptr};
  compare.enumerate = []() {
    std::vector<SynthRecord> all;
    for (long long a = 10; a < 100; ++a)
      for (long long b = 10; b < 100; ++b)
        if (a != b) all.push_back(suite_record("compare_easy", "easy", suite_join({a, b}, ","), solve_compare(a, b)));
    return all;
  };
  families.push_back(compare);

  TaskFamily multiply{"mul_hard", "hard", "numeric", "What is 23 * 47?", nullptr, nullptr};
  multiply.sample = [](std::mt19937_64& rng) {
    long long a = uniform_int(rng, 10, 99), b = uniform_int(rng, 11, 99);
    return suite_record("mul_hard", "hard", suite_join({a, b}, "*"), solve_multiply(a, b));
  };
  families.push_back(multiply);
  return families;
}

}  // namespace

const std::vector<TaskFamily>& builtin_families() {
  static const std::vector<TaskFamily> families = suite_make_families();
  return families;
}

const TaskFamily& find_family(const std::string& name) {
  std::string known;
  for (const auto& f : builtin_families()) {
    if (f.name == name) return f;
    known += (known.empty() ? "" : ", ") + f.name;
  }
  throw Error("unknown task family \"" + name + "\"", "data.synth.families", "known families: " + known);
}

std::vector<std::string> default_family_names() { return {"add_easy", "add_hard"}; }

long long uniform_int(std::mt19937_64& rng, long long lo, long long hi) {
  if (hi < lo) std::swap(lo, hi);
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  if (span == 0) return static_cast<long long>(rng());  // the full 64-bit range
  // Rejection sampling: drop the top partial bucket so every value is equally likely.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  uint64_t x;
  do x = rng(); while (x >= limit);
  return lo + static_cast<long long>(x % span);
}

}  // namespace autothink::data
