// The task suite: the easy family has exactly 1,000 distinct queries, every solver chain of
// thought is correct arithmetic that ends in the answer, and draws are deterministic.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "data/solver.hpp"
#include "data/task_suite.hpp"

namespace autothink::data {
namespace {

std::vector<long long> numbers_in(const std::string& text) {
  std::vector<long long> out;
  static const std::regex number(R"(\d+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), number); it != std::sregex_iterator(); ++it)
    out.push_back(std::stoll(it->str()));
  return out;
}

// The truth computed from the question alone, independently of the solver.
long long truth_of(const std::string& question) {
  auto xs = numbers_in(question);
  if (question.rfind("Which is larger", 0) == 0) return std::max(xs.at(0), xs.at(1));
  if (question.find('*') != std::string::npos) return xs.at(0) * xs.at(1);
  long long sum = 0;
  for (long long x : xs) sum += x;
  return sum;
}

// Re-checks a chain of thought line by line; returns "" or what is wrong.
std::string check_cot(const SynthRecord& r) {
  static const std::regex arithmetic(R"((\d+) ([+*]) (\d+) = (\d+))");
  static const std::regex comparison(R"((\d+) ([<>]) (\d+))");
  static const std::regex check(R"(check: (-?\d+))");
  std::vector<std::string> lines;
  std::istringstream in(r.cot);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  if (lines.empty()) return "empty cot";
  const auto terms = numbers_in(r.question);
  const bool is_sum = r.question.find('+') != std::string::npos;
  long long running = -1;
  // A number plus a digit is worked in columns first: the units (with carry), then the tens.
  static const std::regex column(R"((units|tens): (\d+) \+ (\d+) = (\d+))");
  long long carry = -1;
  size_t first = 0;
  for (; first + 1 < lines.size(); ++first) {
    std::smatch m;
    if (!std::regex_match(lines[first], m, column)) break;
    long long x = std::stoll(m[2]), y = std::stoll(m[3]), z = std::stoll(m[4]);
    if (x + y != z) return "wrong column step: " + lines[first];
    if (m[1] == "units" && (first != 0 || x != terms.at(0) % 10 || y != terms.at(1))) return "wrong units column: " + lines[first];
    if (m[1] == "tens" && (first != 1 || x != terms.at(0) / 10 || y != carry)) return "wrong tens column: " + lines[first];
    carry = z / 10;
  }
  lines.erase(lines.begin(), lines.begin() + first);
  // A longer sum is restated first: the question's expression, as it is written there.
  if (is_sum && first == 0 && !lines.empty() && r.question == "What is " + lines[0] + "?") lines.erase(lines.begin());
  else if (is_sum && first == 0) return "the sum is not restated first: " + lines[0];
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    std::smatch m;
    if (std::regex_match(lines[i], m, arithmetic)) {
      long long x = std::stoll(m[1]), y = std::stoll(m[3]), z = std::stoll(m[4]);
      if ((m[2] == "+" ? x + y : x * y) != z) return "wrong step: " + lines[i];
      if (is_sum) {  // a running sum over the question's terms, in order
        if (i == 0 && (x != terms.at(0) || y != terms.at(1))) return "first step does not start the sum: " + lines[i];
        if (i > 0 && (x != running || y != terms.at(i + 1))) return "step does not continue the sum: " + lines[i];
        running = z;
      }
    } else if (std::regex_match(lines[i], m, comparison)) {
      long long x = std::stoll(m[1]), y = std::stoll(m[3]);
      if ((m[2] == "<") != (x < y)) return "wrong comparison: " + lines[i];
    } else {
      return "unexpected line: " + lines[i];
    }
  }
  if (is_sum && lines.size() != terms.size()) return "a sum of n terms needs n-1 steps and a check";
  std::smatch m;
  if (!std::regex_match(lines.back(), m, check)) return "last line is not a check: " + lines.back();
  if (m[1] != r.answer) return "check line differs from the answer";
  if (std::to_string(truth_of(r.question)) != r.answer) return "answer is wrong";
  return "";
}

TEST(task_suite, add_easy_has_exactly_1000_distinct_queries) {
  auto all = find_family("add_easy").enumerate();
  ASSERT_EQ(all.size(), 1000u);
  std::set<std::string> ids, questions;
  for (const auto& r : all) {
    ids.insert(r.id);
    questions.insert(r.question);
    auto xs = numbers_in(r.question);
    ASSERT_EQ(xs.size(), 2u) << r.question;
    EXPECT_LT(xs[0], 100);
    EXPECT_LT(xs[1], 10);
    EXPECT_EQ(r.difficulty, "easy");
  }
  EXPECT_EQ(ids.size(), 1000u);
  EXPECT_EQ(questions.size(), 1000u);
}

TEST(task_suite, question_answer_and_cot_styles) {
  Solved hard = solve_sum({38, 47, 19, 26});
  EXPECT_EQ(hard.question, "What is 38 + 47 + 19 + 26?");
  EXPECT_EQ(hard.answer, "130");
  EXPECT_EQ(hard.cot, "38 + 47 + 19 + 26\n38 + 47 = 85\n85 + 19 = 104\n104 + 26 = 130\ncheck: 130");
  EXPECT_EQ(solve_sum({12, 30}).cot, "12 + 30\n12 + 30 = 42\ncheck: 42");
  Solved easy = solve_sum({38, 6});
  EXPECT_EQ(easy.question, "What is 38 + 6?");
  EXPECT_EQ(easy.cot, "units: 8 + 6 = 14\ntens: 3 + 1 = 4\n38 + 6 = 44\ncheck: 44");
  EXPECT_EQ(solve_sum({7, 2}).cot, "units: 7 + 2 = 9\ntens: 0 + 0 = 0\n7 + 2 = 9\ncheck: 9");
  Solved cmp = solve_compare(47, 74);
  EXPECT_EQ(cmp.question, "Which is larger, 47 or 74?");
  EXPECT_EQ(cmp.answer, "74");
  EXPECT_EQ(solve_multiply(23, 47).cot, "23 * 7 = 161\n23 * 40 = 920\n161 + 920 = 1081\ncheck: 1081");
}

TEST(task_suite, every_solver_cot_is_correct) {
  std::mt19937_64 rng(7);
  for (const auto& family : builtin_families()) {
    std::vector<SynthRecord> records;
    if (family.enumerate) {
      records = family.enumerate();
    } else {
      for (int i = 0; i < 2000; ++i) records.push_back(family.sample(rng));
    }
    for (const auto& r : records) {
      ASSERT_EQ(check_cot(r), "") << family.name << ": " << r.question << "\n" << r.cot;
      ASSERT_EQ(r.family, family.name);
      ASSERT_EQ(r.id.rfind(family.name + "/", 0), 0u) << r.id;
    }
  }
}

TEST(task_suite, add_hard_uses_four_two_digit_numbers) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 500; ++i) {
    auto r = find_family("add_hard").sample(rng);
    auto xs = numbers_in(r.question);
    ASSERT_EQ(xs.size(), 4u);
    for (long long x : xs) {
      EXPECT_GE(x, 10);
      EXPECT_LE(x, 99);
    }
  }
}

TEST(task_suite, unknown_family_lists_known_ones) {
  try {
    find_family("add_medium");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("add_medium"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("add_hard"), std::string::npos);
  }
}

TEST(task_suite, uniform_int_covers_its_range_only) {
  std::mt19937_64 rng(3);
  std::set<long long> seen;
  for (int i = 0; i < 2000; ++i) {
    long long x = uniform_int(rng, 10, 19);
    ASSERT_GE(x, 10);
    ASSERT_LE(x, 19);
    seen.insert(x);
  }
  EXPECT_EQ(seen.size(), 10u);
}

}  // namespace
}  // namespace autothink::data
