// The task suite: families of queries with graded difficulty whose answers a program verifies
// (DESIGN.md §1, §3). Built in: add_easy "What is 38 + 6?" (every number below 100 plus every
// one-digit number: exactly 1,000 queries), add_medium "What is 38 + 47?" or "What is 38 + 7 + 45?"
// (half two two-digit numbers, half three terms with one to three two-digit ones; a direct answer
// is right on some and wrong on others), add_hard "What is 38 + 47 + 19 + 26?" (four two-digit
// numbers), and the optional compare_easy "Which is larger, 47 or 74?" and mul_hard
// "What is 23 * 47?". Thinking is wasted on the easy ones and pays on the hard ones; on the medium
// ones it depends on the query.
#pragma once
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "data/records.hpp"

namespace autothink::data {

struct TaskFamily {
  std::string name;        // "add_easy"
  std::string difficulty;  // one of kDifficulties (records.hpp)
  std::string verifier;    // registry name of the verifier that checks its answers ("numeric")
  std::string example;     // one question, for help texts
  // Every distinct query, in a fixed order, for a family small enough to list (add_easy: 1,000);
  // null for a family that is sampled instead.
  std::function<std::vector<SynthRecord>()> enumerate;
  // One random query (may repeat; callers de-duplicate by id). Null when enumerate is set.
  std::function<SynthRecord(std::mt19937_64&)> sample;
};

// The built-in families, in a fixed order.
const std::vector<TaskFamily>& builtin_families();
// The family called `name`; an unknown name throws autothink::Error listing the known ones.
const TaskFamily& find_family(const std::string& name);
// The families `data synth` uses by default: add_easy, add_hard.
std::vector<std::string> default_family_names();

// A uniform integer in [lo, hi], identical on every platform (std distributions are not).
long long uniform_int(std::mt19937_64& rng, long long lo, long long hi);
// Fisher-Yates with uniform_int, so a seed gives the same order everywhere.
template <class T> void stable_shuffle(std::vector<T>& items, std::mt19937_64& rng) {
  for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[static_cast<size_t>(uniform_int(rng, 0, i - 1))]);
}

}  // namespace autothink::data
