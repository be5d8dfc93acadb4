// `autothink parse`: reads raw model output (stdin or --input FILE) and prints the KAT parse result
// as one compact JSON line, or with --events the streaming events as JSON lines (ending with
// "end"). Problems in the output are data: the exit code is 0 whenever a result was printed.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <string>
#include <unistd.h>

#include "apps/command.hpp"
#include "core/error.hpp"
#include "data/format/parser.hpp"

namespace autothink::apps {
namespace {

struct ParseArgs {
  std::string input;  // empty: stdin
  bool events = false;
};

// Invalid UTF-8 never reaches the JSON (the parser replaces it), but never abort on it either.
std::string parse_compact(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void parse_print_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);  // events stream as they happen when piped from a generator
}

void run_parse(const ParseArgs& args) {
  const bool from_stdin = args.input.empty() || args.input == "-";
  const std::string name = from_stdin ? "stdin" : args.input;
  int fd = 0;
  if (!from_stdin) {
    fd = ::open(args.input.c_str(), O_RDONLY);
    if (fd < 0)
      throw Error("cannot open the input: " + std::string(std::strerror(errno)), args.input,
                  "pass an existing file to --input, or pipe the output on stdin");
  }
  format::Parser::EventCallback on_event;
  if (args.events) on_event = [](const format::Event& e) { parse_print_line(parse_compact(format::to_json(e))); };
  format::Parser parser(on_event);
  char buf[65536];
  for (;;) {
    // read() rather than fread(): text is parsed as soon as it arrives, not when a block fills.
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string reason = std::strerror(errno);
      if (!from_stdin) ::close(fd);
      throw Error("cannot read the input: " + reason, name);
    }
    parser.feed(std::string_view(buf, static_cast<size_t>(n)));
  }
  if (!from_stdin) ::close(fd);
  parser.finish();
  if (!args.events) parse_print_line(parse_compact(format::to_json(parser.result())));
}

void setup_parse(CLI::App& root) {
  auto args = std::make_shared<ParseArgs>();
  auto* cmd = root.add_subcommand(
      "parse",
      "Parse raw model output in the KAT format (<judge> ... <think_on>/<think_off> ... <answer>) from stdin.\n"
      "Prints {\"judge\",\"mode\",\"reasoning\",\"answer\",\"complete\",\"problems\"} as one JSON line; exits 0\n"
      "whenever it printed a result (problems are data), non-zero only when the input cannot be read.");
  cmd->add_option("--input", args->input, "Read the output from FILE instead of stdin ('-' = stdin)")->type_name("FILE");
  cmd->add_flag("--events", args->events,
                "Print the streaming events instead, one JSON a line: segment_start, delta, mode, segment_end, "
                "and finally end {\"complete\":...}");
  cmd->callback([args]() { run_parse(*args); });
}

}  // namespace
AUTOTHINK_COMMAND(setup_parse, 90);
}  // namespace autothink::apps
