// Parser-driven chat deltas and UTF-8-safe raw text (see choice_output.hpp).
#include "serve/choice_output.hpp"

namespace autothink::serve {

void ChatDelta::append(const ChatDelta& more) {
  judge += more.judge;
  reasoning += more.reasoning;
  content += more.content;
  if (more.think_mode) think_mode = more.think_mode;
}

nlohmann::json ChatDelta::to_json() const {
  nlohmann::json d = nlohmann::json::object();
  if (!judge.empty()) d["judge"] = judge;
  if (think_mode) d["think_mode"] = to_string(*think_mode);
  if (!reasoning.empty()) d["reasoning_content"] = reasoning;
  if (!content.empty()) d["content"] = content;
  return d;
}

ChatChoiceOutput::ChatChoiceOutput(OutputFormat format) {
  auto callback = [this](const format::Event& e) { on_event(e); };
  if (format == OutputFormat::kat)
    kat_ = std::make_unique<format::Parser>(callback);
  else
    tags_ = std::make_unique<format::ThinkTagParser>(callback);
}

void ChatChoiceOutput::on_event(const format::Event& e) {
  if (e.kind == format::EventKind::mode) {
    pending_.think_mode = e.mode;
  } else if (e.kind == format::EventKind::delta) {
    switch (e.segment) {
      case format::SegmentKind::judge: pending_.judge += e.text; break;
      case format::SegmentKind::think: pending_.reasoning += e.text; break;
      case format::SegmentKind::answer: pending_.content += e.text; break;
    }
  }
}

ChatDelta ChatChoiceOutput::feed(std::string_view bytes) {
  if (tags_) tags_->feed(bytes); else kat_->feed(bytes);
  ChatDelta out;
  std::swap(out, pending_);
  return out;
}

ChatDelta ChatChoiceOutput::finish() {
  if (tags_) tags_->finish(); else kat_->finish();
  ChatDelta out;
  std::swap(out, pending_);
  return out;
}

std::string Utf8Holdback::feed(std::string_view bytes) {
  pending_.append(bytes);
  // Find the start of a trailing, possibly incomplete sequence (at most 3 bytes back).
  size_t n = pending_.size();
  size_t cut = n;
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    unsigned char c = static_cast<unsigned char>(pending_[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back
    size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (need > back) cut = n - back;
    break;
  }
  std::string out = pending_.substr(0, cut);
  pending_.erase(0, cut);
  return out;
}

std::string Utf8Holdback::finish() {
  std::string out;
  out.swap(pending_);
  return out;
}

std::string dump_json(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace autothink::serve
