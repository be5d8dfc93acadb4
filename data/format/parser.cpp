// The streaming KAT output parser: a byte scanner that holds back possible tags, a UTF-8 decoder
// that holds back sequences cut at a chunk edge, and a segment state machine that trims
// whitespace while streaming deltas.
#include "data/format/parser.hpp"

namespace autothink::format {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

size_t first_non_space(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i)
    if (!is_space(s[i])) return i;
  return std::string_view::npos;
}

size_t last_non_space(std::string_view s) {
  for (size_t i = s.size(); i > 0; --i)
    if (!is_space(s[i - 1])) return i - 1;
  return std::string_view::npos;
}

std::string trim(std::string_view s) {
  const size_t a = first_non_space(s);
  if (a == std::string_view::npos) return "";
  return std::string(s.substr(a, last_non_space(s) - a + 1));
}

// True when `p` is a proper prefix of some tag literal: more bytes may still complete a tag.
bool is_tag_prefix(std::string_view p) {
  for (std::string_view lit : kSpecialLiterals)
    if (lit.size() > p.size() && lit.substr(0, p.size()) == p) return true;
  return false;
}

// For a UTF-8 lead byte: the number of continuation bytes and the allowed range of the first one
// (excluding overlongs, surrogates and code points above U+10FFFF); -1 if it cannot start one.
int utf8_continuations(unsigned char lead, unsigned char& lo, unsigned char& hi) {
  lo = 0x80;
  hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) return 1;
  if (lead == 0xE0) { lo = 0xA0; return 2; }
  if (lead == 0xED) { hi = 0x9F; return 2; }
  if (lead >= 0xE1 && lead <= 0xEF) return 2;
  if (lead == 0xF0) { lo = 0x90; return 3; }
  if (lead == 0xF4) { hi = 0x8F; return 3; }
  if (lead >= 0xF1 && lead <= 0xF3) return 3;
  return -1;
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

std::string tag_of(SegmentKind kind) { return "<" + std::string(segment_name(kind)) + ">"; }

std::optional<SegmentKind> opened_by(Special s) {
  switch (s) {
    case Special::judge_open: return SegmentKind::judge;
    case Special::think_open: return SegmentKind::think;
    case Special::answer_open: return SegmentKind::answer;
    default: return std::nullopt;
  }
}

std::optional<SegmentKind> closed_by(Special s) {
  switch (s) {
    case Special::judge_close: return SegmentKind::judge;
    case Special::think_close: return SegmentKind::think;
    case Special::answer_close: return SegmentKind::answer;
    default: return std::nullopt;
  }
}

bool is_structural(Special s) {
  return s != Special::im_start && s != Special::im_end && s != Special::endoftext;
}

}  // namespace

std::string_view segment_name(SegmentKind kind) {
  switch (kind) {
    case SegmentKind::judge: return "judge";
    case SegmentKind::think: return "think";
    case SegmentKind::answer: return "answer";
  }
  return "answer";
}

std::string_view event_name(EventKind kind) {
  switch (kind) {
    case EventKind::segment_start: return "segment_start";
    case EventKind::delta: return "delta";
    case EventKind::mode: return "mode";
    case EventKind::segment_end: return "segment_end";
    case EventKind::end: return "end";
  }
  return "end";
}

std::string_view problem_name(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::missing_close: return "missing_close";
    case ProblemKind::truncated: return "truncated";
    case ProblemKind::no_mode: return "no_mode";
    case ProblemKind::both_modes: return "both_modes";
    case ProblemKind::stray_text: return "stray_text";
    case ProblemKind::repeated_segment: return "repeated_segment";
    case ProblemKind::invalid_utf8: return "invalid_utf8";
    case ProblemKind::no_format: return "no_format";
  }
  return "no_format";
}

nlohmann::ordered_json to_json(const Event& event) {
  nlohmann::ordered_json j;
  j["event"] = event_name(event.kind);
  switch (event.kind) {
    case EventKind::segment_start:
    case EventKind::segment_end:
      j["segment"] = segment_name(event.segment);
      break;
    case EventKind::delta:
      j["segment"] = segment_name(event.segment);
      j["text"] = event.text;
      break;
    case EventKind::mode:
      j["mode"] = to_string(event.mode);
      break;
    case EventKind::end:
      j["complete"] = event.complete;
      break;
  }
  return j;
}

nlohmann::ordered_json to_json(const Problem& problem) {
  nlohmann::ordered_json j;
  j["kind"] = problem_name(problem.kind);
  j["offset"] = problem.offset;
  j["message"] = problem.message;
  if (problem.text) j["text"] = *problem.text;
  return j;
}

nlohmann::ordered_json to_json(const Result& result) {
  nlohmann::ordered_json j;
  j["judge"] = result.judge;
  j["mode"] = to_string(result.mode);
  j["reasoning"] = result.reasoning;
  j["answer"] = result.answer;
  j["complete"] = result.complete;
  j["problems"] = nlohmann::ordered_json::array();
  for (const Problem& p : result.problems) j["problems"].push_back(to_json(p));
  return j;
}

Parser::Parser(EventCallback on_event) : on_event_(std::move(on_event)) {}

void Parser::feed(std::string_view bytes) {
  if (finished_) return;
  scan(bytes, offset_);
  offset_ += bytes.size();
}

void Parser::scan(std::string_view bytes, uint64_t base) {
  size_t i = 0;
  while (i < bytes.size()) {
    if (!pending_.empty()) {
      pending_ += bytes[i++];
      resolve_pending(false);
      continue;
    }
    if (bytes[i] == '<') {
      pending_ = "<";
      pending_offset_ = base + i++;
      continue;
    }
    size_t j = bytes.find('<', i);
    if (j == std::string_view::npos) j = bytes.size();
    text_bytes(bytes.substr(i, j - i), base + i);
    i = j;
  }
}

void Parser::resolve_pending(bool at_end) {
  if (auto special = special_from_literal(pending_)) {
    pending_.clear();
    tag(*special, pending_offset_);
    return;
  }
  if (!at_end && is_tag_prefix(pending_)) return;  // wait for more bytes
  const std::string held = std::move(pending_);
  pending_.clear();
  if (at_end) {
    // A lone "<" at the end reads as text ("3 <"); anything longer is a cut-off tag.
    if (held.size() >= 2)
      problem(ProblemKind::truncated, pending_offset_,
              "the output ended in an unfinished tag \"" + held + "\" (kept as text)", held);
    text_bytes(held, pending_offset_);
    return;
  }
  // Only the last byte broke the match: the '<' is text, the rest is scanned again (its last
  // byte may itself be a '<').
  const uint64_t at = pending_offset_;
  text_bytes("<", at);
  scan(std::string_view(held).substr(1), at + 1);
}

void Parser::text_bytes(std::string_view b, uint64_t offset) {
  size_t i = 0;
  // Complete (or reject) a sequence cut at the previous chunk's edge.
  while (!utf8_partial_.empty() && i < b.size()) {
    const auto c = static_cast<unsigned char>(b[i]);
    if (c < utf8_lo_ || c > utf8_hi_) {
      flush_utf8();  // b[i] is examined again below
      break;
    }
    utf8_partial_ += b[i++];
    utf8_lo_ = 0x80;
    utf8_hi_ = 0xBF;
    if (--utf8_need_ == 0) {
      const std::string done = std::move(utf8_partial_);
      utf8_partial_.clear();
      route(done, utf8_partial_offset_);
    }
  }
  size_t run = i;  // start of the bytes known to be valid, not yet routed
  while (i < b.size()) {
    const auto c = static_cast<unsigned char>(b[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    unsigned char lo, hi;
    int need = utf8_continuations(c, lo, hi);
    if (need < 0) {
      route(b.substr(run, i - run), offset + run);
      replace_invalid(offset + i, 1);
      run = ++i;
      continue;
    }
    size_t j = i + 1;
    bool bad = false;
    while (need > 0 && j < b.size()) {
      const auto d = static_cast<unsigned char>(b[j]);
      if (d < lo || d > hi) {
        bad = true;
        break;
      }
      lo = 0x80;
      hi = 0xBF;
      ++j;
      --need;
    }
    if (bad) {  // the maximal valid prefix becomes one U+FFFD; b[j] starts afresh
      route(b.substr(run, i - run), offset + run);
      replace_invalid(offset + i, j - i);
      run = i = j;
      continue;
    }
    if (need > 0) {  // cut at the chunk edge: wait for the rest
      route(b.substr(run, i - run), offset + run);
      utf8_partial_ = std::string(b.substr(i));
      utf8_partial_offset_ = offset + i;
      utf8_need_ = need;
      utf8_lo_ = lo;
      utf8_hi_ = hi;
      return;
    }
    i = j;
  }
  route(b.substr(run, i - run), offset + run);
}

void Parser::flush_utf8() {
  if (utf8_partial_.empty()) return;
  const size_t count = utf8_partial_.size();
  utf8_partial_.clear();
  utf8_need_ = 0;
  replace_invalid(utf8_partial_offset_, count);
}

void Parser::replace_invalid(uint64_t offset, size_t count) {
  if (!result_.problems.empty() && result_.problems.back().kind == ProblemKind::invalid_utf8 &&
      invalid_end_ == offset) {
    invalid_count_ += count;
    result_.problems.back().message =
        "invalid UTF-8: " + std::to_string(invalid_count_) + " bytes replaced by U+FFFD";
  } else {
    invalid_count_ = count;
    problem(ProblemKind::invalid_utf8, offset,
            "invalid UTF-8: " + std::to_string(count) + (count == 1 ? " byte" : " bytes") + " replaced by U+FFFD");
  }
  invalid_end_ = offset + count;
  route(kReplacement, offset);
}

void Parser::route(std::string_view text, uint64_t offset) {
  if (text.empty()) return;
  if (open_) {
    segment_text(text);
    return;
  }
  if (!outside_has_text_) {
    const size_t k = first_non_space(text);
    if (k == std::string_view::npos) {
      if (structural_seen_) return;  // layout whitespace between segments
    } else {
      outside_has_text_ = true;
      outside_offset_ = offset + k;
    }
  }
  outside_ += text;
}

void Parser::segment_text(std::string_view t) {
  if (!content_started_) {
    const size_t k = first_non_space(t);
    if (k == std::string_view::npos) return;  // leading whitespace is trimmed
    t.remove_prefix(k);
    content_started_ = true;
    held_space_ = need_separator_ ? "\n" : "";
    need_separator_ = false;
  }
  const size_t last = last_non_space(t);
  if (last == std::string_view::npos) {
    held_space_ += t;
    return;
  }
  std::string out = std::move(held_space_);
  out.append(t.substr(0, last + 1));
  held_space_ = std::string(t.substr(last + 1));
  text_of(*open_) += out;
  Event e;
  e.kind = EventKind::delta;
  e.segment = *open_;
  e.text = std::move(out);
  emit(std::move(e));
}

void Parser::tag(Special special, uint64_t offset) {
  flush_utf8();
  if (open_) {
    if (closed_by(special) == open_) {
      state_of(*open_).closed = true;
      close_segment();
      return;
    }
    problem(ProblemKind::missing_close, offset,
            tag_of(*open_) + " was not closed: " + std::string(literal(special)) + " came first");
    close_segment();
  }
  if (is_structural(special)) structural_seen_ = true;
  if (structural_seen_) flush_stray();
  if (auto kind = opened_by(special)) {
    open_segment(*kind, offset);
    return;
  }
  if (auto kind = closed_by(special)) {
    problem(ProblemKind::stray_text, offset,
            "closing tag " + std::string(literal(special)) + " without an open " + tag_of(*kind),
            std::string(literal(special)));
    return;
  }
  if (special == Special::think_on || special == Special::think_off) {
    const ThinkMode mode = think_mode_of(special == Special::think_on);
    if (result_.mode == ThinkMode::unknown) {
      result_.mode = mode;
      Event e;
      e.kind = EventKind::mode;
      e.mode = mode;
      emit(std::move(e));
    } else if (result_.mode != mode) {
      problem(ProblemKind::both_modes, offset,
              "both <think_on> and <think_off>: the first, <think_" + std::string(to_string(result_.mode)) + ">, wins");
    } else {
      problem(ProblemKind::repeated_segment, offset,
              "the mode token " + std::string(literal(special)) + " appeared again");
    }
  }
  // <|im_start|>, <|im_end|>, <|endoftext|> outside segments: turn framing, nothing to record.
}

void Parser::open_segment(SegmentKind kind, uint64_t offset) {
  SegmentState& state = state_of(kind);
  if (state.seen)
    problem(ProblemKind::repeated_segment, offset,
            tag_of(kind) + " appeared again; its text is joined to the earlier one with a newline");
  state.seen = true;
  open_ = kind;
  content_started_ = false;
  held_space_.clear();
  need_separator_ = !text_of(kind).empty();
  Event e;
  e.kind = EventKind::segment_start;
  e.segment = kind;
  emit(std::move(e));
}

void Parser::close_segment() {
  Event e;
  e.kind = EventKind::segment_end;
  e.segment = *open_;
  open_.reset();
  held_space_.clear();  // trailing whitespace is trimmed
  emit(std::move(e));
}

void Parser::flush_stray() {
  if (outside_has_text_)
    problem(ProblemKind::stray_text, outside_offset_, "text outside any segment", trim(outside_));
  outside_.clear();
  outside_has_text_ = false;
}

std::string& Parser::text_of(SegmentKind kind) {
  switch (kind) {
    case SegmentKind::judge: return result_.judge;
    case SegmentKind::think: return result_.reasoning;
    case SegmentKind::answer: return result_.answer;
  }
  return result_.answer;
}

void Parser::finish() {
  if (finished_) return;
  if (!pending_.empty()) resolve_pending(true);
  flush_utf8();
  if (open_) {
    problem(ProblemKind::truncated, offset_,
            "the output ended inside " + tag_of(*open_) + " (no </" + std::string(segment_name(*open_)) + ">)");
    close_segment();
  }
  end_checks();
  const SegmentState& judge = state_of(SegmentKind::judge);
  const SegmentState& think = state_of(SegmentKind::think);
  const SegmentState& answer = state_of(SegmentKind::answer);
  result_.complete = structural_seen_ && judge.closed && result_.mode != ThinkMode::unknown &&
                     (result_.mode != ThinkMode::on || think.closed) && answer.closed;
  finished_ = true;
  Event e;
  e.kind = EventKind::end;
  e.complete = result_.complete;
  emit(std::move(e));
}

void Parser::end_checks() {
  if (!structural_seen_) {
    problem(ProblemKind::no_format, 0, "no KAT tags: the whole output is taken as the answer");
    std::string answer = trim(outside_);
    outside_.clear();
    outside_has_text_ = false;
    Event start;
    start.kind = EventKind::segment_start;
    emit(std::move(start));
    if (!answer.empty()) {
      result_.answer = answer;
      Event delta;
      delta.kind = EventKind::delta;
      delta.text = std::move(answer);
      emit(std::move(delta));
    }
    Event end;
    end.kind = EventKind::segment_end;
    emit(std::move(end));
    return;
  }
  flush_stray();
  if (!state_of(SegmentKind::answer).seen)
    problem(ProblemKind::truncated, offset_, "the output ended before <answer>");
  if (result_.mode == ThinkMode::unknown) problem(ProblemKind::no_mode, offset_, "no <think_on> or <think_off> mode token");
  if (!state_of(SegmentKind::judge).seen) problem(ProblemKind::missing_close, 0, "no <judge> segment");
  if (result_.mode == ThinkMode::on && !state_of(SegmentKind::think).seen && state_of(SegmentKind::answer).seen)
    problem(ProblemKind::missing_close, offset_, "a think-on turn without a <think> segment");
}

void Parser::emit(Event event) {
  if (on_event_) on_event_(event);
}

void Parser::problem(ProblemKind kind, uint64_t offset, std::string message, std::optional<std::string> text) {
  result_.problems.push_back(Problem{kind, offset, std::move(message), std::move(text)});
}

Result parse(std::string_view whole, const Parser::EventCallback& on_event) {
  Parser parser(on_event);
  parser.feed(whole);
  parser.finish();
  return parser.result();
}

}  // namespace autothink::format
