// The 11 special tokens of the KAT format (DESIGN.md §3): each is one vocabulary item.
#pragma once
#include <array>
#include <optional>
#include <string_view>

namespace autothink::format {

enum class Special : int {
  im_start = 0,
  im_end,
  endoftext,
  judge_open,
  judge_close,
  think_on,
  think_off,
  think_open,
  think_close,
  answer_open,
  answer_close,
};
inline constexpr int kSpecialCount = 11;

inline constexpr std::array<std::string_view, kSpecialCount> kSpecialLiterals = {
    "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<judge>",  "</judge>", "<think_on>",
    "<think_off>",  "<think>",    "</think>",      "<answer>", "</answer>"};

inline constexpr std::string_view literal(Special s) { return kSpecialLiterals[static_cast<int>(s)]; }

inline std::optional<Special> special_from_literal(std::string_view text) {
  for (int i = 0; i < kSpecialCount; ++i)
    if (kSpecialLiterals[i] == text) return static_cast<Special>(i);
  return std::nullopt;
}

// Fixed judge texts of the forced generation prompts (and of dual-mode training data).
inline constexpr std::string_view kForcedOnJudge = "Thinking was requested.";
inline constexpr std::string_view kForcedOffJudge = "A direct answer was requested.";

// Default judge texts the model learns to write itself in auto mode (tagging writes them; the
// dual-mode data renders every turn under them too, so answers are trained in that context).
// Short, because auto mode pays for every judge token, and made of words the forced texts already
// have, so a tokenizer trained on dual-mode data has them as pieces.
inline constexpr std::string_view kAutoJudgeOn = "Thinking";
inline constexpr std::string_view kAutoJudgeOff = "direct";

}  // namespace autothink::format
