// optillm's heuristic complexity classifier (see complexity.hpp).
#include "data/complexity.hpp"

#include <algorithm>
#include <utf8proc.h>

#include "data/unicode_text.hpp"

namespace autothink::data {

const char* complexity_name(Complexity c) { return c == Complexity::high ? "HIGH" : "LOW"; }

namespace {
// Python's str.lower() per code point (utf8proc's simple lowercase mapping), and len().
std::string lower_utf8(std::string_view text, size_t* code_points) {
  const std::string valid = replace_invalid_utf8(text);
  std::string out;
  size_t n = 0;
  for (size_t pos = 0; pos < valid.size(); ++n) {
    const auto c = static_cast<utf8proc_int32_t>(next_code_point(valid, pos));
    utf8proc_uint8_t buf[4];
    const auto len = utf8proc_encode_char(utf8proc_tolower(c), buf);
    out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(len));
  }
  *code_points = n;
  return out;
}
}  // namespace

ComplexityResult HeuristicComplexity::classify(std::string_view query) const {
  static const char* const indicators[] = {"explain", "analyze", "compare", "evaluate", "synthesize",
                                           "how", "why", "complex", "detail", "thorough", "comprehensive",
                                           "step by step", "calculate", "prove", "justify", "multiple",
                                           "consequences", "implications", "differentiate", "frameworks"};
  size_t length = 0;
  const std::string lower = lower_utf8(query, &length);
  int count = 0;
  for (const char* indicator : indicators) count += lower.find(indicator) != std::string::npos;
  const double length_factor = std::min(static_cast<double>(length) / 100.0, 2.0);
  const double indicator_factor = std::min(count / 3.0, 1.5);
  ComplexityResult r;
  r.classifier = "heuristic";
  r.raw = length_factor * indicator_factor;
  r.label = r.raw > 1.0 ? Complexity::high : Complexity::low;
  r.score = r.label == Complexity::high ? 0.7 : 0.8;
  return r;
}

}  // namespace autothink::data
