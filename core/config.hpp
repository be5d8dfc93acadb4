// autothink::core::Config — one YAML config (a file or a string) with `--set a.b=value`
// overrides, typed getters whose errors name the key path and file:line, and the resolved YAML
// (dump) for run folders. Schemas and typed sections are in core/config_schema.hpp.
#pragma once
#include <yaml-cpp/yaml.h>

#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace autothink::core {

// Applies one "a.b.c=value" override to a YAML tree (value parsed as a YAML scalar or flow
// collection; missing maps are created; a numeric segment indexes a list: demo.stages.0.name=x).
// Throws autothink::Error naming the override when it is malformed.
void apply_override(YAML::Node root, const std::string& assignment);

class Config {
 public:
  // Reads a YAML file; a missing or unparsable file is an Error naming the file (and line).
  static Config load(const std::string& path, const std::vector<std::string>& overrides = {});
  // Parses YAML text; source_name is what error messages call it ("<string>", "test.yaml").
  static Config parse(const std::string& text, const std::string& source_name = "<string>",
                      const std::vector<std::string>& overrides = {});
  // Wraps an existing node (e.g. one element of a list of sections) under a key path prefix.
  Config child(const YAML::Node& node, const std::string& key_path) const;

  Config();

  // Dotted key paths are relative to this section: has("lr"), has("optimizer.beta1").
  bool has(const std::string& key) const;
  // A sub-section; a missing one is an empty map (so its getters return their defaults).
  // A key that holds something other than a map is an Error naming it.
  Config section(const std::string& key) const;
  // Items of a list of maps (demo.stages); missing → empty.
  std::vector<Config> section_list(const std::string& key) const;

  template <class T> T get(const std::string& key, const T& fallback) const;
  template <class T> T require(const std::string& key) const;

  // The keys of this section in file order (empty when it is not a map).
  std::vector<std::string> keys() const;
  YAML::Node node() const { return node_; }
  // Full dotted path of a key in this section: section("train").full_key("lr") == "train.lr".
  std::string full_key(const std::string& key = "") const;
  // "configs/x.yaml:12", or "(from --set)" for keys set on the command line.
  std::string where(const std::string& key = "") const;
  const std::string& source() const;
  bool is_map() const { return node_.IsMap(); }
  bool empty() const { return !node_.IsDefined() || node_.IsNull() || node_.size() == 0; }
  // The resolved YAML (overrides applied) of this section.
  std::string dump() const;

 private:
  struct Shared {
    std::string source;
    YAML::Node root;
    std::set<std::string> overridden;  // full key paths given by --set
  };
  Config(std::shared_ptr<const Shared> shared, YAML::Node node, std::string prefix);
  static Config from_root(YAML::Node root, const std::string& source, const std::vector<std::string>& overrides);
  YAML::Node lookup(const std::string& key) const;  // undefined node when absent
  [[noreturn]] void type_error(const std::string& key, const std::string& expected, const YAML::Node& value) const;

  std::shared_ptr<const Shared> shared_;
  YAML::Node node_;
  std::string prefix_;
};

// Enum config values are parsed once, into the enum: specialise ConfigEnum with the accepted names
// (the first one of a value is how it is written back; later ones are aliases):
//   template <> struct core::ConfigEnum<Stage> {
//     static constexpr std::pair<Stage, const char*> names[] = {{Stage::pretrain, "pretrain"}, ...};
//   };
template <class E> struct ConfigEnum;

template <class E, class = void> struct is_config_enum : std::false_type {};
template <class E> struct is_config_enum<E, std::void_t<decltype(ConfigEnum<E>::names)>> : std::true_type {};

template <class E> std::string_view enum_name(E value) {
  for (const auto& [v, name] : ConfigEnum<E>::names)
    if (v == value) return name;
  return "?";
}

template <class E> std::optional<E> enum_from_name(std::string_view name) {
  for (const auto& [v, n] : ConfigEnum<E>::names)
    if (name == n) return v;
  return std::nullopt;
}

// "pretrain, distill or sft" (each value once, under its written name).
template <class E> std::string enum_choices() {
  std::vector<std::string> shown;
  for (const auto& [v, name] : ConfigEnum<E>::names)
    if (enum_name(v) == name) shown.push_back(name);
  std::string out;
  for (size_t i = 0; i < shown.size(); ++i) out += (i == 0 ? "" : i + 1 == shown.size() ? " or " : ", ") + shown[i];
  return out;
}

namespace config_detail {

template <class T> struct is_vector : std::false_type {};
template <class T> struct is_vector<std::vector<T>> : std::true_type {};

// "an integer", "a number", ... for messages.
template <class T> std::string type_name() {
  if constexpr (std::is_same_v<T, bool>) return "a boolean (true/false)";
  else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) return "a non-negative integer";
  else if constexpr (std::is_integral_v<T>) return "an integer";
  else if constexpr (std::is_floating_point_v<T>) return "a number";
  else if constexpr (std::is_same_v<T, std::string>) return "a string";
  else if constexpr (is_config_enum<T>::value) return "one of " + enum_choices<T>();
  else if constexpr (is_vector<T>::value) return "a list of " + type_name<typename T::value_type>().substr(2) + "s";
  else return "a value";
}

// Converts a YAML value to T; returns false (and leaves out untouched) when it does not fit.
bool scalar_to(const YAML::Node& n, bool& out);
bool scalar_to(const YAML::Node& n, long long& out);
bool scalar_to(const YAML::Node& n, unsigned long long& out);
bool scalar_to(const YAML::Node& n, double& out);
bool scalar_to(const YAML::Node& n, std::string& out);

template <class T> bool convert(const YAML::Node& n, T& out) {
  if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string>) {
    return scalar_to(n, out);
  } else if constexpr (is_config_enum<T>::value) {
    std::string name;
    if (!scalar_to(n, name)) return false;
    auto value = enum_from_name<T>(name);
    if (value) out = *value;
    return value.has_value();
  } else if constexpr (std::is_integral_v<T>) {
    using Wide = std::conditional_t<std::is_unsigned_v<T>, unsigned long long, long long>;
    Wide wide{};
    if (!scalar_to(n, wide)) return false;
    if (wide < static_cast<Wide>(std::numeric_limits<T>::min()) || wide > static_cast<Wide>(std::numeric_limits<T>::max()))
      return false;
    out = static_cast<T>(wide);
    return true;
  } else if constexpr (std::is_floating_point_v<T>) {
    double d = 0;
    if (!scalar_to(n, d)) return false;
    out = static_cast<T>(d);
    return true;
  } else if constexpr (is_vector<T>::value) {
    if (!n.IsSequence()) return false;
    T items;
    for (const auto& item : n) {
      typename T::value_type v{};
      if (!convert(item, v)) return false;
      items.push_back(std::move(v));
    }
    out = std::move(items);
    return true;
  } else if constexpr (std::is_same_v<T, YAML::Node>) {
    out = n;
    return true;
  } else {
    static_assert(sizeof(T) == 0, "Config: unsupported value type");
  }
}

// A short rendering of a YAML value for messages ("'abc'", "a list", "a map").
std::string describe_value(const YAML::Node& n);

}  // namespace config_detail

template <class T> T Config::get(const std::string& key, const T& fallback) const {
  YAML::Node n = lookup(key);
  if (!n.IsDefined() || n.IsNull()) return fallback;
  T out{};
  if (!config_detail::convert(n, out)) type_error(key, config_detail::type_name<T>(), n);
  return out;
}

template <class T> T Config::require(const std::string& key) const {
  YAML::Node n = lookup(key);
  if (!n.IsDefined() || n.IsNull())
    throw Error("missing required key " + full_key(key), shared_->source,
                "add `" + full_key(key) + ": <" + config_detail::type_name<T>() + ">` or pass --set " + full_key(key) + "=...");
  T out{};
  if (!config_detail::convert(n, out)) type_error(key, config_detail::type_name<T>(), n);
  return out;
}

}  // namespace autothink::core
