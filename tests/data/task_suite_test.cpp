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

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A sum's chain: (with three or more terms) the question's expression restated, then one block
// per added term — "units: x%10 + y%10 = u", "tens: x/10 [+ y/10] + carry = t", "x + y = z" —
// over a running total, then the check. Returns "" or what is wrong.
std::string check_sum_cot(const SynthRecord& r) {
  static const std::regex units_re(R"(units: (\d+) \+ (\d+) = (\d+))");
  static const std::regex tens_re(R"(tens: (\d+) \+ (\d+)(?: \+ (\d+))? = (\d+))");
  static const std::regex whole_re(R"((\d+) \+ (\d+) = (\d+))");
  auto lines = lines_of(r.cot);
  const auto terms = numbers_in(r.question);
  size_t at = 0;
  if (terms.size() > 2) {
    if (lines.empty() || r.question != "What is " + lines[0] + "?") return "the sum is not restated first";
    at = 1;
  }
  long long running = terms.at(0);
  for (size_t i = 1; i < terms.size(); ++i, at += 3) {
    if (at + 3 > lines.size()) return "too few lines for the sum";
    const long long y = terms[i];
    std::smatch u, t, w;
    if (!std::regex_match(lines[at], u, units_re)) return "expected a units column: " + lines[at];
    if (std::stoll(u[1]) != running % 10 || std::stoll(u[2]) != y % 10 || std::stoll(u[3]) != running % 10 + y % 10)
      return "wrong units column: " + lines[at];
    const long long carry = std::stoll(u[3]) / 10;
    if (!std::regex_match(lines[at + 1], t, tens_re)) return "expected a tens column: " + lines[at + 1];
    const bool two_digit = y >= 10;
    if (t[3].matched != two_digit) return "tens column has the wrong operands: " + lines[at + 1];
    const long long tx = std::stoll(t[1]), ty = two_digit ? std::stoll(t[2]) : 0;
    const long long tc = two_digit ? std::stoll(t[3]) : std::stoll(t[2]);
    if (tx != running / 10 || ty != y / 10 || tc != carry || std::stoll(t[4]) != tx + ty + tc)
      return "wrong tens column: " + lines[at + 1];
    if (!std::regex_match(lines[at + 2], w, whole_re)) return "expected the whole step: " + lines[at + 2];
    if (std::stoll(w[1]) != running || std::stoll(w[2]) != y || std::stoll(w[3]) != running + y)
      return "step does not continue the sum: " + lines[at + 2];
    if (std::stoll(w[3]) != std::stoll(t[4]) * 10 + std::stoll(u[3]) % 10) return "columns disagree with the step: " + lines[at + 2];
    running += y;
  }
  if (at + 1 != lines.size()) return "extra lines after the steps";
  if (lines[at] != "check: " + r.answer) return "last line is not the check of the answer: " + lines[at];
  if (std::to_string(truth_of(r.question)) != r.answer) return "answer is wrong";
  return "";
}

// Re-checks a chain of thought line by line; returns "" or what is wrong.
std::string check_cot(const SynthRecord& r) {
  if (r.question.find('+') != std::string::npos) return check_sum_cot(r);
  static const std::regex arithmetic(R"((\d+) ([+*]) (\d+) = (\d+))");
  static const std::regex comparison(R"((\d+) ([<>]) (\d+))");
  static const std::regex check(R"(check: (-?\d+))");
  auto lines = lines_of(r.cot);
  if (lines.empty()) return "empty cot";
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    std::smatch m;
    if (std::regex_match(lines[i], m, arithmetic)) {
      long long x = std::stoll(m[1]), y = std::stoll(m[3]), z = std::stoll(m[4]);
      if ((m[2] == "+" ? x + y : x * y) != z) return "wrong step: " + lines[i];
    } else if (std::regex_match(lines[i], m, comparison)) {
      long long x = std::stoll(m[1]), y = std::stoll(m[3]);
      if ((m[2] == "<") != (x < y)) return "wrong comparison: " + lines[i];
    } else {
      return "unexpected line: " + lines[i];
    }
  }
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
  EXPECT_EQ(hard.cot,
            "38 + 47 + 19 + 26\n"
            "units: 8 + 7 = 15\ntens: 3 + 4 + 1 = 8\n38 + 47 = 85\n"
            "units: 5 + 9 = 14\ntens: 8 + 1 + 1 = 10\n85 + 19 = 104\n"
            "units: 4 + 6 = 10\ntens: 10 + 2 + 1 = 13\n104 + 26 = 130\n"
            "check: 130");
  EXPECT_EQ(solve_sum({12, 30}).cot, "units: 2 + 0 = 2\ntens: 1 + 3 + 0 = 4\n12 + 30 = 42\ncheck: 42");
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
    find_family("add_tricky");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("add_tricky"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("add_hard"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("add_medium"), std::string::npos);  // a known one
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
