// The streaming KAT output parser (DESIGN.md §3): fed model output in chunks of any size (a tag may
// arrive one byte at a time), it emits events (segment_start, delta, mode, segment_end, end) and
// builds a Result: judge / mode / reasoning / answer, whether the turn is complete, and the
// problems found. It never throws on input and never drops text: every byte is a tag or lands in a
// field (or a problem's text).
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/format/special_tokens.hpp"
#include "data/format/think_mode.hpp"

namespace autothink::format {

enum class SegmentKind { judge, think, answer };
std::string_view segment_name(SegmentKind kind);  // "judge" | "think" | "answer"

enum class EventKind { segment_start, delta, mode, segment_end, end };
std::string_view event_name(EventKind kind);

struct Event {
  EventKind kind = EventKind::end;
  SegmentKind segment = SegmentKind::answer;  // segment_start, delta, segment_end
  std::string text;                           // delta
  ThinkMode mode = ThinkMode::unknown;        // mode: on | off
  bool complete = false;                      // end
};

enum class ProblemKind {
  missing_close,     // a segment was never closed (another tag closed it, or it never appeared)
  truncated,         // the output stopped early: inside a segment, before the answer, or mid-tag
  no_mode,           // neither <think_on> nor <think_off>
  both_modes,        // both mode tokens (the first one wins)
  stray_text,        // text outside any segment, or a closing tag with nothing open (kept in text)
  repeated_segment,  // a segment (or the mode token) appeared again; segment texts joined by "\n"
  invalid_utf8,      // bytes that are not UTF-8, replaced by U+FFFD
  no_format,         // no structural tag at all: the whole output became the answer
};
std::string_view problem_name(ProblemKind kind);

struct Problem {
  ProblemKind kind = ProblemKind::no_format;
  uint64_t offset = 0;              // byte offset in the input where it was found
  std::string message;
  std::optional<std::string> text;  // stray_text: the text; truncated: the unfinished tag
};

struct Result {
  std::string judge;
  ThinkMode mode = ThinkMode::unknown;
  std::string reasoning;
  std::string answer;
  // judge closed, a mode token seen, think closed (if on), </answer> seen.
  bool complete = false;
  std::vector<Problem> problems;
};

// Compact JSON in the key order of DESIGN.md §3 (ordered_json converts to nlohmann::json).
nlohmann::ordered_json to_json(const Event& event);
nlohmann::ordered_json to_json(const Result& result);
nlohmann::ordered_json to_json(const Problem& problem);

class Parser {
 public:
  using EventCallback = std::function<void(const Event&)>;
  explicit Parser(EventCallback on_event = {});

  // Feeds the next bytes. Ignored after finish().
  void feed(std::string_view bytes);
  // Ends the input: flushes held-back bytes, records end-of-output problems, emits `end`.
  // Calling it again does nothing.
  void finish();
  bool finished() const { return finished_; }
  // The result so far (final after finish()).
  const Result& result() const { return result_; }
  // Bytes fed so far.
  uint64_t offset() const { return offset_; }

 private:
  struct SegmentState {
    bool seen = false;    // opened at least once
    bool closed = false;  // closed by its own closing tag at least once
  };

  void scan(std::string_view bytes, uint64_t base);
  void resolve_pending(bool at_end);
  void text_bytes(std::string_view bytes, uint64_t offset);
  void flush_utf8();
  void replace_invalid(uint64_t offset, size_t count);
  void route(std::string_view text, uint64_t offset);
  void segment_text(std::string_view text);
  void tag(Special special, uint64_t offset);
  void open_segment(SegmentKind kind, uint64_t offset);
  void close_segment();
  void flush_stray();
  void end_checks();
  std::string& text_of(SegmentKind kind);
  SegmentState& state_of(SegmentKind kind) { return segments_[static_cast<int>(kind)]; }
  void emit(Event event);
  void problem(ProblemKind kind, uint64_t offset, std::string message, std::optional<std::string> text = {});

  EventCallback on_event_;
  Result result_;
  bool finished_ = false;
  uint64_t offset_ = 0;

  // A '<' and what followed it while it is still a prefix of some tag.
  std::string pending_;
  uint64_t pending_offset_ = 0;

  // An incomplete UTF-8 sequence at a chunk edge.
  std::string utf8_partial_;
  uint64_t utf8_partial_offset_ = 0;
  int utf8_need_ = 0;
  unsigned char utf8_lo_ = 0x80, utf8_hi_ = 0xBF;
  uint64_t invalid_end_ = UINT64_MAX;  // end of the last invalid run (to merge neighbouring ones)
  size_t invalid_count_ = 0;

  // The open segment and its whitespace handling.
  std::optional<SegmentKind> open_;
  SegmentState segments_[3];
  bool content_started_ = false;  // non-space text seen in this occurrence of the open segment
  bool need_separator_ = false;   // a repeated segment: "\n" before its first text
  std::string held_space_;        // trailing whitespace, emitted only if more text follows

  // Text outside segments (before the first structural tag: maybe the whole answer).
  bool structural_seen_ = false;
  std::string outside_;
  uint64_t outside_offset_ = 0;  // offset of its first non-space byte
  bool outside_has_text_ = false;
};

// Parses a whole output at once.
Result parse(std::string_view whole, const Parser::EventCallback& on_event = {});

}  // namespace autothink::format
