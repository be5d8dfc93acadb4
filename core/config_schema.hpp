// Config schemas: the keys a section may hold (type, default, help), validation that names the
// full key path and file:line of an unknown or wrong-typed key, and typed sections declared
// "by example" — a plain struct that lists its fields once:
//
//   struct TrainSection {
//     int steps = 100;
//     double lr = 1e-3;
//     std::vector<std::string> files;
//     OptimizerSection optimizer;                 // nested map (a struct with fields())
//     template <class V> void fields(V& v) {
//       v("steps", steps, "optimizer steps");
//       v("lr", lr, "peak learning rate");
//       v("files", files, "input JSONL files");
//       v("optimizer", optimizer, "AdamW settings");
//     }
//   };
//   auto train = core::read_section<TrainSection>(config, "train");   // validates, then fills
//
// Field types: bool, int, int64_t (any integer), double, std::string, an enum with ConfigEnum
// names (core/config.hpp), std::vector of those,
// a struct with fields() (nested map), std::vector of such structs (list of maps), YAML::Node (free form).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/config.hpp"

namespace autothink::core {

class Schema;

struct FieldSpec {
  std::string name;
  std::string type;          // "an integer", "a list of strings", "a section", ...
  std::string help;
  std::string default_text;  // the default as YAML, "" when none
  std::function<bool(const YAML::Node&)> accepts;  // scalar and list fields
  std::shared_ptr<const Schema> section;           // nested map, or each item of a list of maps
  bool list_of_sections = false;
  bool free_form = false;  // YAML::Node: anything goes
};

struct ConfigProblem {
  std::string key;      // full key path, e.g. "train.lrr"
  std::string where;    // "configs/x.yaml:12" or "(from --set)"
  std::string message;  // "unknown key train.lrr"
  std::string hint;     // "did you mean 'lr'? known keys: lr, steps"
};

class Schema {
 public:
  Schema& add(FieldSpec field);
  // Adds the fields of `other` that this schema lacks (several commands may read one section).
  Schema& merge(const Schema& other);
  const FieldSpec* find(const std::string& name) const;
  const std::vector<FieldSpec>& fields() const { return fields_; }
  std::vector<std::string> names() const;

  // Every unknown or wrong-typed key in `section` (recursing into nested sections).
  std::vector<ConfigProblem> check(const Config& section) const;
  // Throws autothink::Error for the first problem (listing the others in the hint).
  void validate(const Config& section) const;
  // Human-readable list of keys with types, defaults and help, indented for nesting.
  std::string describe(const std::string& indent = "") const;

 private:
  std::vector<FieldSpec> fields_;
};

// Throws one Error for a list of problems (no-op when empty).
void throw_config_problems(const std::vector<ConfigProblem>& problems);
// The candidate closest to `name` by edit distance, or "" when none is close.
std::string closest_name(const std::string& name, const std::vector<std::string>& candidates);

namespace config_detail {

template <class T, class = void> struct has_fields : std::false_type {};
struct FieldProbe {
  template <class U> void operator()(const char*, U&, const char*) {}
};
template <class T>
struct has_fields<T, std::void_t<decltype(std::declval<T&>().fields(std::declval<FieldProbe&>()))>> : std::true_type {};

template <class T> struct is_section_list : std::false_type {};
template <class T> struct is_section_list<std::vector<T>> : has_fields<T> {};

template <class T> std::string default_yaml(const T& value) {
  if constexpr (std::is_same_v<T, YAML::Node>) {
    return "";
  } else if constexpr (is_config_enum<T>::value) {
    return std::string(enum_name(value));
  } else if constexpr (std::is_floating_point_v<T>) {
    // The shortest form that reads back the same: 1e-06, not 9.9999999999999995e-07.
    for (int precision = 6; precision <= 17; ++precision) {
      YAML::Emitter out;
      out.SetDoublePrecision(precision);
      out << static_cast<double>(value);
      if (std::stod(out.c_str()) == static_cast<double>(value) || precision == 17) return out.c_str();
    }
    return "";
  } else {
    YAML::Emitter out;
    out << YAML::Flow << YAML::Node(value);
    return out.c_str();
  }
}

}  // namespace config_detail

template <class T> Schema schema_of();

// Visitor that turns a struct's fields() into a Schema.
class SchemaBuilder {
 public:
  template <class T> void operator()(const char* name, T& value, const char* help) {
    FieldSpec f;
    f.name = name;
    f.help = help;
    if constexpr (config_detail::has_fields<T>::value) {
      f.type = "a section";
      f.section = std::make_shared<Schema>(schema_of<T>());
    } else if constexpr (config_detail::is_section_list<T>::value) {
      f.type = "a list of sections";
      f.section = std::make_shared<Schema>(schema_of<typename T::value_type>());
      f.list_of_sections = true;
    } else if constexpr (std::is_same_v<T, YAML::Node>) {
      f.type = "any YAML";
      f.free_form = true;
    } else {
      f.type = config_detail::type_name<T>();
      f.default_text = config_detail::default_yaml(value);
      f.accepts = [](const YAML::Node& n) {
        T probe{};
        return config_detail::convert(n, probe);
      };
    }
    schema.add(std::move(f));
  }
  Schema schema;
};

template <class T> Schema schema_of() {
  T example{};
  SchemaBuilder builder;
  example.fields(builder);
  return builder.schema;
}

// Visitor that fills a struct's fields from an (already validated) section.
class SectionReader {
 public:
  explicit SectionReader(const Config& section) : section_(section) {}
  template <class T> void operator()(const char* name, T& value, const char*) {
    if constexpr (config_detail::has_fields<T>::value) {
      SectionReader nested(section_.section(name));
      value.fields(nested);
    } else if constexpr (config_detail::is_section_list<T>::value) {
      if (!section_.has(name)) return;
      T items;
      for (const Config& item_config : section_.section_list(name)) {
        typename T::value_type item{};
        SectionReader nested(item_config);
        item.fields(nested);
        items.push_back(std::move(item));
      }
      value = std::move(items);
    } else {
      value = section_.get<T>(name, value);
    }
  }

 private:
  Config section_;
};

// Validates `section` against T's schema, then returns T filled from it (defaults for absent keys).
template <class T> T read_config(const Config& section) {
  schema_of<T>().validate(section);
  T out{};
  SectionReader reader(section);
  out.fields(reader);
  return out;
}

// Defined in config_registry.cpp: the merged schema others registered for a section name.
const Schema* find_section_schema(const std::string& name);

// read_config of the section `name` of `root` ("train", or dotted "demo.stages.0.train").
// Keys that another reader registered for the same section name (config_registry.hpp) are
// accepted too, so two commands reading one section agree with `autothink config check`.
template <class T> T read_section(const Config& root, const std::string& name) {
  Config section = root.section(name);
  Schema schema = schema_of<T>();
  const Schema* registered = find_section_schema(name.substr(name.rfind('.') + 1));
  if (registered) schema.merge(*registered);
  schema.validate(section);
  T out{};
  SectionReader reader(section);
  out.fields(reader);
  return out;
}

}  // namespace autothink::core
