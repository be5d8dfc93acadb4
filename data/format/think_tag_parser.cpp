// ThinkTagParser: a four-state scanner (start, think, answer_start, answer) over held-back bytes.
#include "data/format/think_tag_parser.hpp"

#include <algorithm>

namespace autothink::format {
namespace {

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

// How many bytes at the end of `s` may still become `tag` or complete a UTF-8 character: they
// wait for more input.
size_t holdback(std::string_view s, std::string_view tag) {
  size_t keep = 0;
  for (size_t n = std::min(s.size(), tag.size() - 1); n > 0; --n)
    if (s.substr(s.size() - n) == tag.substr(0, n)) {
      keep = n;
      break;
    }
  // An incomplete UTF-8 sequence at the end (at most 3 bytes back).
  for (size_t back = 1; back <= 3 && back <= s.size(); ++back) {
    const unsigned char c = static_cast<unsigned char>(s[s.size() - back]);
    if ((c & 0xC0) == 0x80) continue;
    const size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (need > back) keep = std::max(keep, back);
    break;
  }
  return keep;
}

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

std::string_view rstrip_newlines(std::string_view s) {
  while (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  return s;
}

}  // namespace

ThinkTagParser::ThinkTagParser(Parser::EventCallback on_event) : on_event_(std::move(on_event)) {}

void ThinkTagParser::emit(Event event) {
  if (on_event_) on_event_(event);
}

void ThinkTagParser::open(SegmentKind kind) {
  segment_ = kind;
  open_segment_ = true;
  Event e;
  e.kind = EventKind::segment_start;
  e.segment = kind;
  emit(e);
}

void ThinkTagParser::close() {
  if (!open_segment_) return;
  open_segment_ = false;
  Event e;
  e.kind = EventKind::segment_end;
  e.segment = segment_;
  emit(e);
}

void ThinkTagParser::emit_text(SegmentKind kind, std::string_view text) {
  if (text.empty()) return;
  if (kind == SegmentKind::answer && !mode_emitted_) {  // an answer with no reasoning before it
    mode_emitted_ = true;
    result_.mode = ThinkMode::off;
    Event m;
    m.kind = EventKind::mode;
    m.mode = ThinkMode::off;
    emit(m);
  }
  if (!open_segment_ || segment_ != kind) {
    close();
    open(kind);
  }
  (kind == SegmentKind::think ? result_.reasoning : result_.answer) += text;
  Event e;
  e.kind = EventKind::delta;
  e.segment = kind;
  e.text = std::string(text);
  emit(e);
}

void ThinkTagParser::feed(std::string_view bytes) {
  if (finished_) return;
  offset_ += bytes.size();
  pending_.append(bytes);
  scan(false);
}

void ThinkTagParser::scan(bool at_end) {
  while (!pending_.empty()) {
    if (state_ == State::start) {
      // Whitespace, then "<think>" opens the reasoning; anything else starts the answer.
      size_t i = 0;
      while (i < pending_.size() && is_space(pending_[i])) ++i;
      std::string_view rest = std::string_view(pending_).substr(i);
      if (rest.substr(0, kOpen.size()) == kOpen) {
        pending_.erase(0, i + kOpen.size());
        state_ = State::think_start;
        open(SegmentKind::think);
        continue;
      }
      if (!at_end && kOpen.substr(0, rest.size()) == rest) return;  // maybe "<think>" still coming
      state_ = State::answer;
      continue;
    }
    if (state_ == State::answer_start) {  // newlines right after </think> are not the answer's
      size_t i = 0;
      while (i < pending_.size() && pending_[i] == '\n') ++i;
      pending_.erase(0, i);
      if (pending_.empty()) return;
      state_ = State::answer;
      continue;
    }
    if (state_ == State::think_start) {  // newlines right after <think> are not reasoning
      size_t i = 0;
      while (i < pending_.size() && pending_[i] == '\n') ++i;
      pending_.erase(0, i);
      if (pending_.empty()) return;
      state_ = State::think;
      continue;
    }
    if (state_ == State::think) {
      const size_t end = pending_.find(kClose);
      if (end != std::string::npos) {
        // Newlines right before </think> are not reasoning either (the templates strip('\n') it).
        emit_text(SegmentKind::think, rstrip_newlines(std::string_view(pending_).substr(0, end)));
        pending_.erase(0, end + kClose.size());
        if (!open_segment_) open(SegmentKind::think);  // an empty think still has its segment
        close();
        bool any = false;
        for (char c : result_.reasoning) any = any || !is_space(c);
        result_.mode = any ? ThinkMode::on : ThinkMode::off;
        mode_emitted_ = true;
        Event m;
        m.kind = EventKind::mode;
        m.mode = result_.mode;
        emit(m);
        state_ = State::answer_start;
        continue;
      }
      // Hold back a possible "</think>" and the newlines that may precede it.
      size_t keep = at_end ? 0 : holdback(pending_, kClose);
      if (!at_end) {
        const std::string_view before = std::string_view(pending_).substr(0, pending_.size() - keep);
        keep = pending_.size() - rstrip_newlines(before).size();
      }
      emit_text(SegmentKind::think, std::string_view(pending_).substr(0, pending_.size() - keep));
      pending_.erase(0, pending_.size() - keep);
      return;
    }
    // answer: everything is text (a later "<think>" too); hold back only an incomplete character.
    const size_t keep = at_end ? 0 : holdback(pending_, "\x01");  // "\x01": no tag, UTF-8 only
    emit_text(SegmentKind::answer, std::string_view(pending_).substr(0, pending_.size() - keep));
    pending_.erase(0, pending_.size() - keep);
    return;
  }
}

void ThinkTagParser::finish() {
  if (finished_) return;
  scan(true);
  finished_ = true;
  if (state_ == State::think || state_ == State::think_start) {
    result_.mode = ThinkMode::on;
    Problem p;
    p.kind = ProblemKind::truncated;
    p.offset = offset_;
    p.message = "the output ended inside <think>";
    result_.problems.push_back(p);
  }
  close();
  result_.complete = state_ == State::answer || state_ == State::answer_start;
  Event e;
  e.kind = EventKind::end;
  e.complete = result_.complete;
  emit(e);
}

}  // namespace autothink::format
