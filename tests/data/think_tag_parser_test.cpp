// ThinkTagParser: <think>…</think> output of Qwen3 / DeepSeek-R1 style models splits into
// reasoning and answer whatever the chunking (every byte apart included), with the newlines the
// templates strip dropped, the mode read from the reasoning, and truncation reported.
#include <gtest/gtest.h>

#include "data/format/think_tag_parser.hpp"

namespace autothink::format {
namespace {

struct Split {
  std::string reasoning, answer;
  ThinkMode mode = ThinkMode::unknown;
  bool complete = false;
  size_t problems = 0;
};

// Feeds `text` in chunks of `chunk` bytes (0 = at once) and collects the deltas.
Split parse(const std::string& text, size_t chunk) {
  Split s;
  ThinkTagParser parser([&](const Event& e) {
    if (e.kind == EventKind::delta) (e.segment == SegmentKind::think ? s.reasoning : s.answer) += e.text;
  });
  if (chunk == 0) {
    parser.feed(text);
  } else {
    for (size_t i = 0; i < text.size(); i += chunk) parser.feed(text.substr(i, chunk));
  }
  parser.finish();
  EXPECT_EQ(parser.result().reasoning, s.reasoning);
  EXPECT_EQ(parser.result().answer, s.answer);
  s.mode = parser.result().mode;
  s.complete = parser.result().complete;
  s.problems = parser.result().problems.size();
  return s;
}

TEST(think_tag_parser, splits_reasoning_and_answer_in_any_chunking) {
  const std::string out = "<think>\nFirst 17*3 = 51.\nThen check: 51 — ok ✓\n</think>\n\nThe answer is 51.";
  for (size_t chunk : {0, 1, 2, 3, 7}) {
    const Split s = parse(out, chunk);
    EXPECT_EQ(s.reasoning, "First 17*3 = 51.\nThen check: 51 — ok ✓") << chunk;
    EXPECT_EQ(s.answer, "The answer is 51.") << chunk;
    EXPECT_EQ(s.mode, ThinkMode::on);
    EXPECT_TRUE(s.complete);
    EXPECT_EQ(s.problems, 0u);
  }
}

TEST(think_tag_parser, empty_think_is_mode_off_and_no_think_is_all_answer) {
  const Split off = parse("<think>\n\n</think>\n\nJust 4.", 1);  // Qwen3 enable_thinking=false
  EXPECT_EQ(off.reasoning, "");
  EXPECT_EQ(off.answer, "Just 4.");
  EXPECT_EQ(off.mode, ThinkMode::off);
  const Split plain = parse("  4, and <think> later is text", 1);
  EXPECT_EQ(plain.answer, "  4, and <think> later is text");
  EXPECT_EQ(plain.reasoning, "");
  EXPECT_EQ(plain.mode, ThinkMode::off);
}

TEST(think_tag_parser, unclosed_think_is_reasoning_and_truncated) {
  const Split s = parse("<think>\nstill going\n", 1);  // DeepSeek-R1 cut by max_tokens
  EXPECT_EQ(s.reasoning, "still going\n");
  EXPECT_EQ(s.answer, "");
  EXPECT_EQ(s.mode, ThinkMode::on);
  EXPECT_FALSE(s.complete);
  EXPECT_EQ(s.problems, 1u);
}

TEST(think_tag_parser, partial_close_tag_inside_reasoning_stays_text) {
  const Split s = parse("<think>a </thin b</think>c", 1);
  EXPECT_EQ(s.reasoning, "a </thin b");
  EXPECT_EQ(s.answer, "c");
}

}  // namespace
}  // namespace autothink::format
