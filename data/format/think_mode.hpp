// The two mode types every stage shares. ThinkMode is what an assistant turn did (or must do):
// the parser's reading of a completion, a training turn's mode, a tagging decision, a served
// choice's mode. PromptMode is what a generation prompt asks for: auto (the model judges), or a
// forced mode.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace autothink::format {

// unknown: no mode token seen (parser), or none given (a history turn, rendered as its answer).
enum class ThinkMode { unknown, on, off };
enum class PromptMode { automatic, on, off };  // "auto" | "on" | "off"

constexpr std::string_view to_string(ThinkMode mode) {
  switch (mode) {
    case ThinkMode::on: return "on";
    case ThinkMode::off: return "off";
    case ThinkMode::unknown: return "unknown";
  }
  return "unknown";
}

constexpr std::string_view to_string(PromptMode mode) {
  switch (mode) {
    case PromptMode::automatic: return "auto";
    case PromptMode::on: return "on";
    case PromptMode::off: return "off";
  }
  return "auto";
}

constexpr ThinkMode think_mode_of(bool think_on) { return think_on ? ThinkMode::on : ThinkMode::off; }

// The mode a prompt forces (unknown for auto).
constexpr ThinkMode forced_mode(PromptMode mode) {
  return mode == PromptMode::on ? ThinkMode::on : mode == PromptMode::off ? ThinkMode::off : ThinkMode::unknown;
}

// "on" | "off" | "unknown" → the mode; anything else → nullopt (the caller names the field).
constexpr std::optional<ThinkMode> think_mode_from_string(std::string_view s) {
  if (s == "on") return ThinkMode::on;
  if (s == "off") return ThinkMode::off;
  if (s == "unknown") return ThinkMode::unknown;
  return std::nullopt;
}

// "auto" | "on" | "off" → the mode; anything else → nullopt.
constexpr std::optional<PromptMode> prompt_mode_from_string(std::string_view s) {
  if (s == "auto") return PromptMode::automatic;
  if (s == "on") return PromptMode::on;
  if (s == "off") return PromptMode::off;
  return std::nullopt;
}

}  // namespace autothink::format
