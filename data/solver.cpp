// Chains of thought for the task suite (see solver.hpp for the style).
#include "data/solver.hpp"

#include "core/error.hpp"

namespace autothink::data {
namespace {

std::string solver_step(long long x, const char* op, long long y, long long result) {
  return std::to_string(x) + " " + op + " " + std::to_string(y) + " = " + std::to_string(result) + "\n";
}

}  // namespace

std::string check_line(const std::string& answer) { return "check: " + answer; }

// A number plus one digit, worked in columns as a careful thinker does: the units with their
// carry, the tens, then the whole sum. (A one-line chain here was barely longer than the
// judge and tags around it, so thinking on easy queries cost little and skipping it saved little.)
namespace {
Solved solve_sum_columns(long long a, long long digit) {
  Solved s;
  s.question = "What is " + std::to_string(a) + " + " + std::to_string(digit) + "?";
  const long long units = a % 10 + digit, tens = a / 10 + units / 10;
  s.answer = std::to_string(a + digit);
  s.cot = "units: " + solver_step(a % 10, "+", digit, units) + "tens: " + solver_step(a / 10, "+", units / 10, tens) +
          solver_step(a, "+", digit, a + digit) + check_line(s.answer);
  return s;
}
}  // namespace

Solved solve_sum(const std::vector<long long>& terms) {
  if (terms.size() < 2) throw Error("a sum needs at least two terms", "solve_sum");
  if (terms.size() == 2 && terms[0] >= 0 && terms[1] >= 0 && terms[1] <= 9) return solve_sum_columns(terms[0], terms[1]);
  Solved s;
  std::string expression = std::to_string(terms[0]);
  long long total = terms[0];
  for (size_t i = 1; i < terms.size(); ++i) {
    expression += " + " + std::to_string(terms[i]);
    s.cot += solver_step(total, "+", terms[i], total + terms[i]);
    total += terms[i];
  }
  s.question = "What is " + expression + "?";
  s.answer = std::to_string(total);
  // The chain restates the sum first, so every term sits right above the steps that copy it.
  s.cot = expression + "\n" + s.cot + check_line(s.answer);
  return s;
}

Solved solve_compare(long long a, long long b) {
  if (a == b) throw Error("a comparison needs two different numbers", "solve_compare");
  Solved s;
  s.question = "Which is larger, " + std::to_string(a) + " or " + std::to_string(b) + "?";
  s.answer = std::to_string(a > b ? a : b);
  s.cot = std::to_string(a) + (a > b ? " > " : " < ") + std::to_string(b) + "\n" + check_line(s.answer);
  return s;
}

Solved solve_multiply(long long a, long long b) {
  if (b < 0 || b > 99) throw Error("the second factor must have one or two digits", "solve_multiply");
  Solved s;
  s.question = "What is " + std::to_string(a) + " * " + std::to_string(b) + "?";
  s.answer = std::to_string(a * b);
  long long units = b % 10, tens = b / 10 * 10;
  if (tens == 0) {
    s.cot = solver_step(a, "*", units, a * units);
  } else if (units == 0) {
    s.cot = solver_step(a, "*", tens, a * tens);
  } else {
    s.cot = solver_step(a, "*", units, a * units) + solver_step(a, "*", tens, a * tens) +
            solver_step(a * units, "+", a * tens, a * b);
  }
  s.cot += check_line(s.answer);
  return s;
}

}  // namespace autothink::data
