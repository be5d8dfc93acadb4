// The task-suite solver: for one query of a family, the question text, the direct answer and a
// correct chain of thought in ONE compact style shared by every family — compute step by step,
// one "x op y = z" line a step, then "check: <answer>". Tiny models pay for every token, so the
// style is short and regular.
#pragma once
#include <string>
#include <vector>

namespace autothink::data {

struct Solved {
  std::string question;  // "What is 38 + 47 + 19 + 26?"
  std::string answer;    // the direct answer: "130"
  std::string cot;       // the chain of thought (no trailing newline)
};

// "What is a + b + ...?" — worked in columns over a running total: per added term the units
// with their carry, the tens with the carry, then the whole step; a sum of three or more terms
// is restated first ("38 + 47 + 19 + 26\nunits: 8 + 7 = 15\ntens: 3 + 4 + 1 = 8\n38 + 47 = 85\n
// units: 5 + 9 = 14\ntens: 8 + 1 + 1 = 10\n85 + 19 = 104\n...check: 130"). A one-digit term has
// no tens of its own: "units: 8 + 6 = 14\ntens: 3 + 1 = 4\n38 + 6 = 44\ncheck: 44". Negative
// terms, or a later term over 99, get one "x + y = z" line a step. Needs two terms.
Solved solve_sum(const std::vector<long long>& terms);
// "Which is larger, a or b?" — one comparison line ("47 < 74"); a and b must differ.
Solved solve_compare(long long a, long long b);
// "What is a * b?" with b of one or two digits: a * (units), a * (tens), then their sum.
Solved solve_multiply(long long a, long long b);

// The check line that ends every chain of thought.
std::string check_line(const std::string& answer);

}  // namespace autothink::data
