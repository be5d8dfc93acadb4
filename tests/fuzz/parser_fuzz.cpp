// libFuzzer target for the streaming KAT parser. Besides "no crash, no sanitizer report" it checks
// the parser's promises on every input: feeding it in pieces (split points derived from the input)
// gives the same result and the same deltas as feeding it whole; each segment's deltas concatenate
// to its final text; events are well formed; every field is valid UTF-8; offsets lie in the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "data/format/parser.hpp"

namespace {

using namespace autothink::format;

struct Run {
  Result result;
  std::map<std::string, std::string> deltas;
  std::string event_error;  // first malformed event sequence seen, if any
};

[[noreturn]] void fail(const std::string& what, std::string_view input) {
  std::fprintf(stderr, "parser_fuzz: %s\ninput (%zu bytes)\n", what.c_str(), input.size());
  std::abort();
}

Run run(std::string_view input, const std::vector<size_t>& cuts) {
  Run r;
  std::optional<SegmentKind> open;
  bool ended = false, mode_seen = false;
  Parser parser([&](const Event& e) {
    auto bad = [&](const std::string& why) {
      if (r.event_error.empty()) r.event_error = why + ": " + to_json(e).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    };
    if (ended) bad("event after end");
    switch (e.kind) {
      case EventKind::segment_start:
        if (open) bad("segment_start while a segment is open");
        open = e.segment;
        break;
      case EventKind::delta:
        if (open != e.segment) bad("delta outside its segment");
        if (e.text.empty()) bad("empty delta");
        r.deltas[std::string(segment_name(e.segment))] += e.text;
        break;
      case EventKind::segment_end:
        if (open != e.segment) bad("segment_end of a segment that is not open");
        open.reset();
        break;
      case EventKind::mode:
        if (mode_seen) bad("second mode event");
        if (e.mode == ThinkMode::unknown) bad("a mode event without a mode");
        mode_seen = true;
        break;
      case EventKind::end:
        if (open) bad("end while a segment is open");
        ended = true;
        break;
    }
  });
  size_t at = 0;
  for (size_t cut : cuts) {
    parser.feed(input.substr(at, cut - at));
    at = cut;
  }
  parser.feed(input.substr(at));
  parser.finish();
  if (!ended && r.event_error.empty()) r.event_error = "no end event";
  r.result = parser.result();
  return r;
}

// Strict dump: throws on invalid UTF-8 in any field, which the parser promises never to emit.
std::string dump_strict(const Result& result, std::string_view input) {
  try {
    return to_json(result).dump();
  } catch (const std::exception& e) {
    fail(std::string("result JSON is not valid UTF-8: ") + e.what(), input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const Run whole = run(input, {});
  if (!whole.event_error.empty()) fail("events: " + whole.event_error, input);
  const std::string expected = dump_strict(whole.result, input);

  const std::map<std::string, std::string> finals = {
      {"judge", whole.result.judge}, {"think", whole.result.reasoning}, {"answer", whole.result.answer}};
  for (const auto& [segment, text] : finals) {
    auto it = whole.deltas.find(segment);
    if ((it == whole.deltas.end() ? std::string() : it->second) != text)
      fail("deltas of " + segment + " do not concatenate to its text", input);
  }
  for (const Problem& p : whole.result.problems)
    if (p.offset > size) fail("problem offset past the input: " + p.message, input);
  if (whole.result.complete && whole.result.mode == ThinkMode::unknown) fail("complete without a mode", input);

  // Split points from a hash of the input, so libFuzzer can steer them; small inputs also byte by byte.
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ull;
  std::vector<std::vector<size_t>> splits;
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<size_t> cuts;
    for (size_t i = 1; i < size; ++i) {
      h = h * 6364136223846793005ull + 1442695040888963407ull;
      if ((h >> 33) % (2 + trial * 3) == 0) cuts.push_back(i);
    }
    splits.push_back(std::move(cuts));
  }
  if (size <= 512) {
    std::vector<size_t> every;
    for (size_t i = 1; i < size; ++i) every.push_back(i);
    splits.push_back(std::move(every));
  }
  for (const auto& cuts : splits) {
    const Run split = run(input, cuts);
    if (!split.event_error.empty()) fail("events (split): " + split.event_error, input);
    if (dump_strict(split.result, input) != expected)
      fail("split result differs:\n whole: " + expected + "\n split: " + to_json(split.result).dump(), input);
    if (split.deltas != whole.deltas) fail("split deltas differ", input);
  }
  return 0;
}
