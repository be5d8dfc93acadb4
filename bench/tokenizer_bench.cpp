// tokenizer_bench: encoding throughput of data::JsonTokenizer on a text file, one document per
// line, one thread (bench/tokenizer.sh runs it beside Hugging Face `tokenizers`). Prints one JSON
// line: {"side":"autothink","bytes":..,"tokens":..,"seconds":..,"ids_fnv":..} (the fastest of
// --repeat runs; ids_fnv, FNV-1a of "id,id,...,", lets the script check both sides produced the same ids).
#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "data/tokenizer_json.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Encode a text file (one document per line) with a tokenizer.json; print one JSON line"};
  std::string tokenizer_path, text_path;
  int repeat = 3;
  app.add_option("--tokenizer", tokenizer_path, "tokenizer.json")->required();
  app.add_option("--text", text_path, "UTF-8 text file; each line is one document")->required();
  app.add_option("--repeat", repeat, "timed runs; the fastest is reported")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    const autothink::data::JsonTokenizer tok(tokenizer_path);
    std::ifstream in(text_path, std::ios::binary);
    if (!in) throw autothink::Error("cannot read the text file", text_path);
    std::vector<std::string> docs;
    size_t bytes = 0;
    for (std::string line; std::getline(in, line);) {
      bytes += line.size();
      docs.push_back(std::move(line));
    }
    double best = 1e300;
    std::vector<int> ids;
    for (int r = 0; r < repeat; ++r) {
      ids.clear();
      const auto t0 = std::chrono::steady_clock::now();
      for (const std::string& doc : docs) tok.encode(doc, false, ids);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::string id_text;
    for (int id : ids) id_text += std::to_string(id) + ",";
    std::cout << nlohmann::json{{"side", "autothink"}, {"bytes", bytes}, {"tokens", ids.size()}, {"seconds", best},
                                {"ids_fnv", std::to_string(autothink::core::fnv1a(id_text))}}
                     .dump()
              << std::endl;
  } catch (const autothink::Error& e) {
    std::cerr << "tokenizer_bench: " << e.what() << "\n";
    return 1;
  }
}
