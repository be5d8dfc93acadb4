// The registry of section schemas: each reader of a top-level section (model, train, rl, ...)
// registers what it accepts, and `autothink config check` validates a whole file — including
// every stage of demo.stages — against them. Sections with no registered schema are reported
// as unchecked, not rejected.
//
// Register from a .cpp that is linked into the binary (apps/cmd_*.cpp; a static library's
// object file that nothing references is dropped by the linker, its registration with it):
//   AUTOTHINK_CONFIG_SECTION("train", train::TrainSection);
#pragma once
#include <string>
#include <vector>

#include "core/config_schema.hpp"

namespace autothink::core {

// Adds a schema for a top-level section; a second registration of the same name is merged
// (a section read by several commands accepts the keys any of them knows).
// "demo.stage" names the extra keys a demo stage may hold besides `command`, `name` and sections.
void register_section_schema(const std::string& name, const Schema& schema);
// nullptr when nothing registered `name`.
const Schema* find_section_schema(const std::string& name);
std::vector<std::string> registered_section_names();
// The top-level sections of DESIGN.md §2: model tokenizer data tag train rl eval serve demo.
const std::vector<std::string>& known_section_names();

struct ConfigCheckReport {
  std::vector<std::string> validated;  // "train", "demo.stages.0.train", ...
  std::vector<std::string> unchecked;  // known sections that have no schema yet
};

// Validates every section of `root` that has a schema; an unknown top-level section or stage
// key is a problem too. Throws one autothink::Error listing all problems.
ConfigCheckReport check_config(const Config& root);

}  // namespace autothink::core

#define AUTOTHINK_CONFIG_CAT2(a, b) a##b
#define AUTOTHINK_CONFIG_CAT(a, b) AUTOTHINK_CONFIG_CAT2(a, b)
#define AUTOTHINK_CONFIG_SECTION(name, Type)                                                     \
  static const int AUTOTHINK_CONFIG_CAT(autothink_config_section_, __COUNTER__) =               \
      (::autothink::core::register_section_schema(name, ::autothink::core::schema_of<Type>()), 0)
