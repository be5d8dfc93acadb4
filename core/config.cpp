#include "core/config.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace autothink::core {
namespace {

std::vector<std::string> split_key(const std::string& key) {
  std::vector<std::string> parts;
  if (key.empty()) return parts;
  std::string cur;
  for (char c : key) {
    if (c == '.') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

bool parse_index(const std::string& s, size_t& index) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  index = static_cast<size_t>(std::stoul(s));
  return true;
}

std::string join_key(const std::string& prefix, const std::string& key) {
  if (prefix.empty()) return key;
  if (key.empty()) return prefix;
  return prefix + "." + key;
}

std::string kind_of(const YAML::Node& n) {
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  if (n.IsNull()) return "empty";
  return "the value '" + n.Scalar() + "'";
}

std::string override_hint() { return "expected --set key.path=value, e.g. --set train.lr=3e-4 or --set data.files=[a.jsonl,b.jsonl]"; }

// Descends one segment for writing, creating a map where nothing is; never assigns through
// a handle (yaml-cpp's Node::operator= would overwrite the node it refers to).
YAML::Node descend_for_write(YAML::Node cur, const std::string& seg, const std::string& cur_path,
                             const std::string& assignment) {
  size_t index = 0;
  if (cur.IsSequence()) {
    if (!parse_index(seg, index) || index >= cur.size())
      throw Error("cannot apply --set " + assignment + ": " + cur_path + " is a list of " +
                      std::to_string(cur.size()) + " items",
                  "", "index it with 0.." + std::to_string(cur.size() == 0 ? 0 : cur.size() - 1));
    return cur[index];
  }
  if (!cur.IsMap() && !cur.IsNull())
    throw Error("cannot apply --set " + assignment + ": " + cur_path + " is " + kind_of(cur) + ", not a section",
                "", "set " + cur_path + " itself, or fix the config file");
  YAML::Node next = cur[seg];
  if (!next.IsDefined() || next.IsNull()) {
    cur[seg] = YAML::Node(YAML::NodeType::Map);
    next.reset(cur[seg]);
  }
  return next;
}

}  // namespace

void apply_override(YAML::Node root, const std::string& assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("malformed --set '" + assignment + "'", "", override_hint());
  std::string key = assignment.substr(0, eq);
  std::string text = assignment.substr(eq + 1);
  std::vector<std::string> segs = split_key(key);
  for (const auto& seg : segs) {
    bool ok = !seg.empty();
    for (char c : seg)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') ok = false;
    if (!ok)
      throw Error("malformed --set '" + assignment + "': bad key '" + key + "'", "",
                  "keys are dot-separated names of letters, digits, '_' and '-'");
  }
  YAML::Node value;
  if (text.empty()) {
    value = YAML::Node(std::string());
  } else {
    try {
      value = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw Error("malformed --set '" + assignment + "': the value is not valid YAML (" + e.msg + ")", "",
                  "quote it, e.g. --set " + key + "='\"" + text + "\"'");
    }
  }
  YAML::Node cur = root;
  std::string path;  // the key path of cur
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    YAML::Node next = descend_for_write(cur, segs[i], path.empty() ? "the config" : path, assignment);
    cur.reset(next);
    path = join_key(path, segs[i]);
  }
  const std::string& leaf = segs.back();
  size_t index = 0;
  if (cur.IsSequence()) {
    if (!parse_index(leaf, index) || index > cur.size())
      throw Error("cannot apply --set " + assignment + ": " + (path.empty() ? "the config" : path) + " is a list of " +
                  std::to_string(cur.size()) + " items");
    if (index == cur.size())
      cur.push_back(value);
    else
      cur[index] = value;
    return;
  }
  if (!cur.IsMap() && !cur.IsNull())
    throw Error("cannot apply --set " + assignment + ": " + path + " is " + kind_of(cur) + ", not a section");
  cur[leaf] = value;
}

Config::Config() : Config(std::make_shared<Shared>(), YAML::Node(YAML::NodeType::Map), "") {}

Config::Config(std::shared_ptr<const Shared> shared, YAML::Node node, std::string prefix)
    : shared_(std::move(shared)), node_(node), prefix_(std::move(prefix)) {}

Config Config::from_root(YAML::Node root, const std::string& source, const std::vector<std::string>& overrides) {
  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap())
    throw Error("the config must be a map of sections (model:, train:, ...), not " + kind_of(root), source);
  auto shared = std::make_shared<Shared>();
  shared->source = source;
  for (const auto& assignment : overrides) {
    apply_override(root, assignment);
    shared->overridden.insert(assignment.substr(0, assignment.find('=')));
  }
  shared->root = root;
  return Config(shared, root, "");
}

// yaml-cpp keeps both entries of a key written twice and reads the first, so the second would be
// dropped without a word: refuse it, naming both lines.
void config_reject_duplicate_keys(const YAML::Node& node, const std::string& source, const std::string& path) {
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) config_reject_duplicate_keys(node[i], source, path + "." + std::to_string(i));
    return;
  }
  if (!node.IsMap()) return;
  std::map<std::string, int> first_line;
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    const std::string full = path.empty() ? key : path + "." + key;
    const int line = kv.first.Mark().line + 1;
    auto [it, fresh] = first_line.emplace(key, line);
    if (!fresh)
      throw Error("duplicate key " + full + " (first at line " + std::to_string(it->second) + ")",
                  source + ":" + std::to_string(line), "keep one of them; YAML would silently use the first");
    config_reject_duplicate_keys(kv.second, source, full);
  }
}

Config Config::parse(const std::string& text, const std::string& source_name, const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw Error("cannot parse YAML: " + e.msg,
                source_name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1));
  } catch (const YAML::Exception& e) {
    throw Error("cannot parse YAML: " + e.msg, source_name);
  }
  config_reject_duplicate_keys(root, source_name, "");
  return from_root(root, source_name, overrides);
}

Config Config::load(const std::string& path, const std::vector<std::string>& overrides) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error("config file " + path + " does not exist", "", "check the path given to --config");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read config file " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path, overrides);
}

Config Config::child(const YAML::Node& node, const std::string& key_path) const {
  return Config(shared_, node, key_path);
}

YAML::Node Config::lookup(const std::string& key) const {
  YAML::Node cur = node_;
  for (const auto& seg : split_key(key)) {
    size_t index = 0;
    const YAML::Node& const_cur = cur;  // const access never inserts
    bool is_item = cur.IsSequence() && parse_index(seg, index) && index < cur.size();
    if (!cur.IsMap() && !is_item) return YAML::Node(YAML::NodeType::Undefined);
    // Copy-construct: assigning a missing (zombie) node to a handle throws in yaml-cpp.
    YAML::Node next(is_item ? const_cur[index] : const_cur[seg]);
    if (!next.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    cur.reset(next);
  }
  return cur;
}

bool Config::has(const std::string& key) const {
  YAML::Node n = lookup(key);
  return n.IsDefined() && !n.IsNull();
}

Config Config::section(const std::string& key) const {
  YAML::Node n = lookup(key);
  if (!n.IsDefined() || n.IsNull()) return Config(shared_, YAML::Node(YAML::NodeType::Map), full_key(key));
  if (!n.IsMap())
    throw Error(full_key(key) + " must be a section (a map of keys), not " + kind_of(n), where(key),
                "write it as `" + split_key(key).back() + ":` followed by indented `key: value` lines");
  return Config(shared_, n, full_key(key));
}

std::vector<Config> Config::section_list(const std::string& key) const {
  std::vector<Config> items;
  YAML::Node n = lookup(key);
  if (!n.IsDefined() || n.IsNull()) return items;
  if (!n.IsSequence())
    throw Error(full_key(key) + " must be a list of sections, not " + kind_of(n), where(key),
                "write each item as `- key: value` lines");
  for (size_t i = 0; i < n.size(); ++i) {
    std::string item_key = join_key(key, std::to_string(i));
    YAML::Node item = n[i];
    if (!item.IsMap())
      throw Error(full_key(item_key) + " must be a section (a map of keys), not " + kind_of(item), where(item_key));
    items.push_back(Config(shared_, item, full_key(item_key)));
  }
  return items;
}

std::vector<std::string> Config::keys() const {
  std::vector<std::string> out;
  if (!node_.IsMap()) return out;
  for (const auto& kv : node_) out.push_back(kv.first.as<std::string>());
  return out;
}

std::string Config::full_key(const std::string& key) const { return join_key(prefix_, key); }

const std::string& Config::source() const { return shared_->source; }

std::string Config::where(const std::string& key) const {
  std::string full = full_key(key);
  // A key set on the command line (or inside a value set there) has no line in the file.
  std::vector<std::string> segs = split_key(full);
  std::string path;
  for (const auto& seg : segs) {
    path = join_key(path, seg);
    if (shared_->overridden.count(path)) return "(from --set)";
  }
  // The line of the key itself (a section's value starts a line below it), else of the
  // nearest enclosing key.
  std::vector<std::string> rel = split_key(key);
  while (true) {
    int line = -1;
    if (rel.empty()) {
      line = node_.Mark().line;
    } else {
      std::string parent_key;
      for (size_t i = 0; i + 1 < rel.size(); ++i) parent_key = join_key(parent_key, rel[i]);
      YAML::Node parent = parent_key.empty() ? node_ : lookup(parent_key);
      if (parent.IsMap()) {
        for (const auto& kv : parent)
          if (kv.first.Scalar() == rel.back()) line = kv.first.Mark().line;
      } else {
        YAML::Node n = lookup(join_key(parent_key, rel.back()));
        if (n.IsDefined()) line = n.Mark().line;
      }
    }
    if (line >= 0) return shared_->source + ":" + std::to_string(line + 1);
    if (rel.empty()) break;
    rel.pop_back();
  }
  return shared_->source;
}

std::string Config::dump() const {
  YAML::Emitter out;
  out << node_;
  std::string text = out.c_str();
  if (text.empty() || (node_.IsMap() && node_.size() == 0)) text = "{}";
  return text + "\n";
}

void Config::type_error(const std::string& key, const std::string& expected, const YAML::Node& value) const {
  throw Error(full_key(key) + " must be " + expected + ", got " + config_detail::describe_value(value), where(key));
}

namespace config_detail {

bool scalar_to(const YAML::Node& n, bool& out) {
  if (!n.IsScalar()) return false;
  bool b = false;
  if (!YAML::convert<bool>::decode(n, b)) return false;
  out = b;
  return true;
}

bool scalar_to(const YAML::Node& n, long long& out) {
  if (!n.IsScalar()) return false;
  const std::string& s = n.Scalar();
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno == 0 && end && *end == '\0') {
    out = v;
    return true;
  }
  // Counts are often written as 1e6; accept a number in exponent form when it is a whole one.
  double d = 0;
  if (scalar_to(n, d) && std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18) {
    out = static_cast<long long>(d);
    return true;
  }
  return false;
}

bool scalar_to(const YAML::Node& n, unsigned long long& out) {
  long long v = 0;
  if (!scalar_to(n, v) || v < 0) return false;
  out = static_cast<unsigned long long>(v);
  return true;
}

bool scalar_to(const YAML::Node& n, double& out) {
  if (!n.IsScalar()) return false;
  const std::string& s = n.Scalar();
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (errno == 0 && end && *end == '\0' && s.find_first_of("xXpP") == std::string::npos) {
    out = v;
    return true;
  }
  double yaml_value = 0;  // .inf, -.inf, .nan
  if (s.find('.') == 0 || s.find("-.") == 0 || s.find("+.") == 0) {
    if (YAML::convert<double>::decode(n, yaml_value)) {
      out = yaml_value;
      return true;
    }
  }
  return false;
}

bool scalar_to(const YAML::Node& n, std::string& out) {
  if (!n.IsScalar()) return false;
  out = n.Scalar();
  return true;
}

std::string describe_value(const YAML::Node& n) {
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  if (n.IsNull()) return "nothing";
  std::string s = n.Scalar();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return "'" + s + "'";
}

}  // namespace config_detail
}  // namespace autothink::core
