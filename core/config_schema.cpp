#include "core/config_schema.hpp"

#include <algorithm>
#include <climits>

namespace autothink::core {
namespace {

// Edit distance counting an adjacent transposition as one edit ("stpes" → "steps").
size_t schema_edit_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "(none)" : out;
}

}  // namespace

std::string closest_name(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const auto& c : candidates) {
    size_t d = schema_edit_distance(name, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  size_t allowed = name.size() <= 3 ? 1 : name.size() <= 6 ? 2 : 3;
  if (best_distance <= allowed) return best;
  // A key that is the start of a known one ("learning" for "learning_rate").
  for (const auto& c : candidates)
    if (name.size() >= 3 && (c.rfind(name, 0) == 0 || name.rfind(c, 0) == 0)) return c;
  return "";
}

Schema& Schema::add(FieldSpec field) {
  for (auto& f : fields_) {
    if (f.name == field.name) {
      f = std::move(field);
      return *this;
    }
  }
  fields_.push_back(std::move(field));
  return *this;
}

Schema& Schema::merge(const Schema& other) {
  for (const auto& f : other.fields_) {
    const FieldSpec* mine = find(f.name);
    if (!mine) {
      fields_.push_back(f);
    } else if (mine->section && f.section) {
      // Both readers declare a nested section: accept the keys either knows.
      FieldSpec merged = *mine;
      Schema nested = *mine->section;
      nested.merge(*f.section);
      merged.section = std::make_shared<Schema>(std::move(nested));
      add(std::move(merged));
    }
  }
  return *this;
}

const FieldSpec* Schema::find(const std::string& name) const {
  for (const auto& f : fields_)
    if (f.name == name) return &f;
  return nullptr;
}

std::vector<std::string> Schema::names() const {
  std::vector<std::string> out;
  for (const auto& f : fields_) out.push_back(f.name);
  return out;
}

std::vector<ConfigProblem> Schema::check(const Config& section) const {
  std::vector<ConfigProblem> problems;
  const YAML::Node node = section.node();
  if (!section.is_map()) return problems;  // Config::section already rejects non-maps
  for (const auto& key : section.keys()) {
    const FieldSpec* f = find(key);
    if (!f) {
      std::string suggestion = closest_name(key, names());
      problems.push_back({section.full_key(key), section.where(key), "unknown key " + section.full_key(key),
                          (suggestion.empty() ? "" : "did you mean '" + suggestion + "'? ") + "known keys: " +
                              join_names(names())});
      continue;
    }
    const YAML::Node value(node[key]);
    if (value.IsNull() || f->free_form) continue;
    auto wrong_type = [&](const std::string& full, const std::string& where, const std::string& expected,
                          const YAML::Node& got) {
      problems.push_back({full, where, full + " must be " + expected + ", got " + config_detail::describe_value(got), ""});
    };
    if (f->section && !f->list_of_sections) {
      if (!value.IsMap()) {
        wrong_type(section.full_key(key), section.where(key), "a section (a map of keys)", value);
        continue;
      }
      auto nested = f->section->check(section.section(key));
      problems.insert(problems.end(), nested.begin(), nested.end());
    } else if (f->list_of_sections) {
      if (!value.IsSequence()) {
        wrong_type(section.full_key(key), section.where(key), "a list of sections", value);
        continue;
      }
      for (size_t i = 0; i < value.size(); ++i) {
        std::string item_key = key + "." + std::to_string(i);
        const YAML::Node item(value[i]);
        if (!item.IsMap()) {
          wrong_type(section.full_key(item_key), section.where(item_key), "a section (a map of keys)", item);
          continue;
        }
        auto nested = f->section->check(section.child(item, section.full_key(item_key)));
        problems.insert(problems.end(), nested.begin(), nested.end());
      }
    } else if (f->accepts && !f->accepts(value)) {
      wrong_type(section.full_key(key), section.where(key), f->type, value);
    }
  }
  return problems;
}

void Schema::validate(const Config& section) const { throw_config_problems(check(section)); }

void throw_config_problems(const std::vector<ConfigProblem>& problems) {
  if (problems.empty()) return;
  const ConfigProblem& first = problems.front();
  std::string hint = first.hint;
  if (problems.size() > 1) {
    hint += (hint.empty() ? "" : "\n") + std::to_string(problems.size() - 1) + " more problem(s):";
    for (size_t i = 1; i < problems.size(); ++i) {
      const auto& p = problems[i];
      hint += "\n  " + p.message + " (at " + p.where + ")" + (p.hint.empty() ? "" : ": " + p.hint);
    }
  }
  throw Error(first.message, first.where, hint);
}

std::string Schema::describe(const std::string& indent) const {
  std::string out;
  for (const auto& f : fields_) {
    out += indent + f.name + ":";
    if (!f.default_text.empty()) out += " " + f.default_text;
    out += "  # " + f.type + (f.help.empty() ? "" : " - " + f.help) + "\n";
    if (f.section && f.list_of_sections) out += indent + "  - # each item:\n" + f.section->describe(indent + "    ");
    else if (f.section) out += f.section->describe(indent + "  ");
  }
  return out;
}

}  // namespace autothink::core
