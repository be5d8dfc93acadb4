// Verifiers: a table of tricky answers each verifier must accept or reject, the registry, and
// the command verifier (exit status, truth in the environment, timeout, broken command).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "core/error.hpp"
#include "data/verifier.hpp"
#include "data/verifier_command.hpp"
#include "test_paths.hpp"

namespace autothink::data {
namespace {

struct Case {
  const char* answer;
  const char* truth;
  bool correct;
};

TEST(verifier, numeric_accepts_formatting_and_rejects_wrong_answers) {
  const Case cases[] = {
      {"1786", "1786", true},
      {"1,786", "1786", true},
      {" 1786.", "1786", true},
      {"1786.0", "1786", true},
      {"1786.000", "1786", true},
      {"The answer is 1786", "1786", true},
      {"The answer is 1,786.", "1786", true},
      {"38 + 6 = 44", "44", true},
      {"$1,786", "1786", true},
      {"\n\t1786\n", "1786", true},
      {"01786", "1786", true},
      {"12,345,678", "12345678", true},
      {"-5", "-5", true},
      {"\xE2\x88\x92" "5", "-5", true},  // U+2212 minus sign
      {"x = -5.", "-5", true},
      {".5", "0.5", true},
      {"0.50", "0.5", true},
      {"-0", "0", true},
      {"1786", "1,786", true},
      {"1787", "1786", false},
      {"17860", "1786", false},
      {"178.6", "1786", false},
      {"5", "-5", false},
      {"3-5", "-5", false},        // a minus between digits is subtraction, not a sign
      {"1786 or 1787", "1786", false},  // the LAST number counts
      {"1,78", "178", false},      // not a thousands group: 1 and 78
      {"1,2", "12", false},
      {"", "1786", false},
      {"I don't know", "1786", false},
      {"one thousand", "1000", false},
  };
  NumericVerifier numeric;
  for (const auto& c : cases)
    EXPECT_EQ(numeric.check(c.answer, c.truth), c.correct) << "answer \"" << c.answer << "\" truth \"" << c.truth << "\"";
}

TEST(verifier, last_number_normalises) {
  EXPECT_EQ(last_number("a 1,234.50 b"), "1234.5");
  EXPECT_EQ(last_number("7 then 0008"), "8");
  EXPECT_FALSE(last_number("no digits here").has_value());
}

TEST(verifier, numeric_truth_without_a_number_is_an_error) {
  NumericVerifier numeric;
  EXPECT_THROW(numeric.check("12", "twelve"), Error);
}

TEST(verifier, exact_match_normalises_whitespace_case_and_final_period) {
  const Case cases[] = {
      {"Paris", "paris", true},      {"  Paris.  ", "Paris", true}, {"New   York", "new york", true},
      {"new\nyork", "New York", true}, {"Pariss", "Paris", false},   {"Paris, France", "Paris", false},
      {"", "Paris", false},
  };
  ExactMatchVerifier exact;
  for (const auto& c : cases)
    EXPECT_EQ(exact.check(c.answer, c.truth), c.correct) << "answer \"" << c.answer << "\" truth \"" << c.truth << "\"";
}

TEST(verifier, registry_maps_families_and_takes_user_verifiers) {
  auto registry = VerifierRegistry::with_builtins();
  EXPECT_TRUE(registry.for_family("add_hard").check("The answer is 130.", "130"));
  EXPECT_FALSE(registry.for_family("add_easy").check("45", "44"));
  EXPECT_THROW(registry.for_family("my_family"), Error);
  EXPECT_THROW(registry.map_family("my_family", "no_such_verifier"), Error);

  struct Palindrome : Verifier {
    bool check(const std::string& a, const std::string&) const override { return std::string(a.rbegin(), a.rend()) == a; }
    std::string describe() const override { return "palindrome"; }
  };
  registry.add("palindrome", std::make_shared<Palindrome>());
  registry.map_family("my_family", "palindrome");
  EXPECT_TRUE(registry.for_family("my_family").check("abba", ""));
  EXPECT_FALSE(registry.for_family("my_family").check("abc", ""));
  EXPECT_EQ(registry.family_verifier_name("my_family"), "palindrome");
  try {
    registry.get("nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("palindrome"), std::string::npos) << "lists the known verifiers";
  }
}

TEST(verifier, command_reads_answer_on_stdin_and_truth_from_env) {
  // Correct when stdin equals $AUTOTHINK_TRUTH.
  CommandVerifier command(R"cmd(test "$(cat)" = "$AUTOTHINK_TRUTH")cmd", 10);
  EXPECT_TRUE(command.check("hello world", "hello world"));
  EXPECT_FALSE(command.check("hello", "world"));
  // An answer larger than a pipe buffer is written in full.
  CommandVerifier counts_bytes(R"cmd(test "$(wc -c)" -eq "$AUTOTHINK_TRUTH")cmd", 10);
  EXPECT_TRUE(counts_bytes.check(std::string(200000, 'x'), "200000"));
  EXPECT_FALSE(counts_bytes.check(std::string(200000, 'x'), "199999"));
  EXPECT_THROW(command.check("a", std::string(200000, 't')), Error) << "a truth too long for the environment";
  CommandVerifier ignores_stdin("exit 0", 10);
  EXPECT_TRUE(ignores_stdin.check(std::string(200000, 'y'), "t"));
  EXPECT_FALSE(CommandVerifier("exit 3", 10).check("a", "b"));
}

// A process that has exited (gone, or a zombie nobody reaped yet).
bool process_ended(const std::string& pid) {
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

TEST(verifier, command_past_its_timeout_is_wrong_and_killed) {
  // The command starts a child that would outlive it: the timeout must kill the whole group.
  const auto pid_file = testing::temp_dir("verifier-timeout") / "child.pid";
  CommandVerifier slow("sleep 60 & echo $! > '" + pid_file.string() + "'; wait; exit 0", 0.3);
  EXPECT_FALSE(slow.check("a", "a"));  // wrong, not right after 60 s
  const std::string child = testing::read_text_file(pid_file);
  ASSERT_FALSE(child.empty());
  const std::string pid = child.substr(0, child.find('\n'));
  EXPECT_TRUE(testing::wait_for([&] { return process_ended(pid); }, std::chrono::seconds(10)))
      << "the command's child " << pid << " still runs after the timeout";
}

TEST(verifier, command_that_cannot_run_is_an_error) {
  CommandVerifier missing("/no/such/program --check", 5);
  EXPECT_THROW(missing.check("a", "a"), Error);
  EXPECT_THROW(CommandVerifier("", 5), Error);
}

}  // namespace
}  // namespace autothink::data
