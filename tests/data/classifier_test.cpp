// The heuristic complexity classifier labels queries exactly as optillm's own
// ComplexityClassifier._fallback_classification (loaded from .deps/optillm by file path).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "data/complexity.hpp"
#include "test_paths.hpp"

using namespace autothink;
namespace fs = std::filesystem;

namespace {
std::vector<std::string> queries() {
  const std::string pad(60, 'x');
  return {
      "What is 12 + 7?",
      "What is 78 + 20 + 51 + 76?",
      "Explain how and why the Krebs cycle works, step by step, and compare it with glycolysis in detail.",
      "Show me the cat",  // "how" inside "show": one indicator
      "Can you analyze, evaluate and justify the implications of multiple frameworks for the consequences?",
      // Exactly 100 code points with 3 indicators: score 1.0 is not > 1 (LOW).
      "explain how why " + std::string(84, 'z'),
      "explain how why " + std::string(85, 'z'),
      "EXPLAIN HOW WHY " + pad + pad,  // lower-cased before matching
      "Erkläre ausführlich, wie und warum: explain, analyze, compare — step by step ✓ " + pad,
      "计算 prove calculate thorough comprehensive 细节 " + pad,
      "",
      "why",
  };
}
}  // namespace

TEST(classifier, heuristic_labels_equal_optillms_fallback_classification) {
  const fs::path optillm = autothink::testing::source_dir() / ".deps/optillm/autothink";
  if (!fs::exists(optillm / "classifier.py")) GTEST_SKIP() << "no .deps/optillm (scripts/deps.sh downloads it)";
  const fs::path dir = autothink::testing::temp_dir("complexity");
  std::ofstream(dir / "in.json") << nlohmann::json(queries()).dump();
  auto r = autothink::testing::run_command(autothink::testing::python() + " " +
                                           (autothink::testing::source_dir() / "tests/data/complexity_reference.py").string() +
                                           " " + optillm.string() + " " + (dir / "in.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto ref = nlohmann::json::parse(r.output);
  data::HeuristicComplexity heuristic;
  int high = 0;
  for (size_t i = 0; i < queries().size(); ++i) {
    const auto got = heuristic.classify(queries()[i]);
    EXPECT_EQ(data::complexity_name(got.label), ref[i][0].get<std::string>()) << "query " << i << ": " << queries()[i];
    EXPECT_DOUBLE_EQ(got.score, ref[i][1].get<double>()) << "query " << i;
    high += got.label == data::Complexity::high;
  }
  EXPECT_GE(high, 3);
  EXPECT_GE(static_cast<int>(queries().size()) - high, 3);
}

TEST(classifier, arithmetic_queries_of_the_demo_are_low) {
  data::HeuristicComplexity heuristic;
  EXPECT_EQ(heuristic.classify("What is 78 + 20 + 51 + 76?").label, data::Complexity::low);
  EXPECT_EQ(heuristic.classify("What is 3 + 4?").label, data::Complexity::low);
}
