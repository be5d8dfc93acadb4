// The error hierarchy a boundary relies on: AUTOTHINK_CHECK reports a broken invariant as an
// InternalError (an autothink::Error) that names the source file:line, relative to the repository.
#include "core/error.hpp"

#include <gtest/gtest.h>

#include <string>

namespace autothink {
namespace {

int checked_half(int even) {
  AUTOTHINK_CHECK(even % 2 == 0, "checked_half needs an even number, got " + std::to_string(even));
  return even / 2;
}

TEST(error, check_passes_through_when_the_invariant_holds) { EXPECT_EQ(checked_half(8), 4); }

TEST(error, failed_check_names_the_condition_and_file_line) {
  try {
    checked_half(7);
    FAIL() << "no exception";
  } catch (const Error& e) {  // caught as the one base type a boundary catches
    EXPECT_NE(dynamic_cast<const InternalError*>(&e), nullptr);
    EXPECT_NE(e.message().find("checked_half needs an even number, got 7"), std::string::npos) << e.what();
    EXPECT_NE(e.message().find("even % 2 == 0"), std::string::npos) << e.what();
    EXPECT_EQ(e.where(), "tests/core/error_test.cpp:13");
    EXPECT_NE(e.hint().find("bug"), std::string::npos);
  }
}

TEST(error, what_composes_message_where_and_hint) {
  const Error e("no such file", "data/x.jsonl", "run data synth first");
  EXPECT_STREQ(e.what(), "no such file (at data/x.jsonl): run data synth first");
  EXPECT_STREQ(Error("plain").what(), "plain");
}

}  // namespace
}  // namespace autothink
