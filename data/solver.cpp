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

// Sums are worked in columns, as a careful thinker does: the units with their carry, the tens
// with the carry, then the whole sum. Every generated digit is then a copy or a one-digit sum.
// (A one-line chain for a number plus one digit was barely longer than the judge and tags around
// it, so thinking on easy queries cost little and skipping it saved little. A one-line running
// sum for the hard form, "85 + 19 = 104", asks the model to carry in its head: whether a tiny
// teacher ever learned that depended on the seed — see DESIGN §5.)
namespace {
// "units: 5 + 9 = 14\ntens: 8 + 1 + 1 = 10\n85 + 19 = 104\n" (x, y >= 0; y of one or two digits).
// A one-digit y has no tens column of its own: "tens: 3 + 1 = 4".
std::string column_step(long long x, long long y) {
  const long long units = x % 10 + y % 10, carry = units / 10;
  const long long tens = x / 10 + y / 10 + carry;
  std::string tens_line = "tens: " + std::to_string(x / 10) + " + ";
  if (y >= 10) tens_line += std::to_string(y / 10) + " + ";
  tens_line += std::to_string(carry) + " = " + std::to_string(tens) + "\n";
  return "units: " + solver_step(x % 10, "+", y % 10, units) + tens_line + solver_step(x, "+", y, x + y);
}

bool columns_apply(const std::vector<long long>& terms) {
  for (long long t : terms)
    if (t < 0) return false;
  for (size_t i = 1; i < terms.size(); ++i)
    if (terms[i] > 99) return false;
  return true;
}
}  // namespace

Solved solve_sum(const std::vector<long long>& terms) {
  if (terms.size() < 2) throw Error("a sum needs at least two terms", "solve_sum");
  const bool columns = columns_apply(terms);
  Solved s;
  std::string expression = std::to_string(terms[0]);
  long long total = terms[0];
  for (size_t i = 1; i < terms.size(); ++i) {
    expression += " + " + std::to_string(terms[i]);
    s.cot += columns ? column_step(total, terms[i]) : solver_step(total, "+", terms[i], total + terms[i]);
    total += terms[i];
  }
  s.question = "What is " + expression + "?";
  s.answer = std::to_string(total);
  // Three or more terms: the chain restates the sum first, so every term sits right above the
  // steps that copy it. Two terms are already on the question's line.
  s.cot = (terms.size() > 2 ? expression + "\n" : "") + s.cot + check_line(s.answer);
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
