// Renderings of a registry snapshot: a text table (for `help` and `gorodebug list`), JSON,
// and the Markdown table in docs/gorodebug.md.

#ifndef GORO_DEBUGVARS_RENDER_H_
#define GORO_DEBUGVARS_RENDER_H_

#include <string>
#include <vector>

#include "debugvars/registry.h"

namespace goro::debugvars {

// goro::debugvars::RenderTable renders one block per setting: a header line with name,
// type, value, default, origin and mutability, then the documentation, indented.
std::string RenderTable(const std::vector<SettingSnapshot>& settings);

// goro::debugvars::RenderJson renders a JSON array with one object per setting and every
// field of SettingSnapshot.
std::string RenderJson(const std::vector<SettingSnapshot>& settings);

// goro::debugvars::RenderMarkdown renders the reference table of docs/gorodebug.md:
// name, type, default, mutability, documentation. It uses compiled defaults only, so the
// output does not depend on the environment.
std::string RenderMarkdown(const std::vector<SettingSnapshot>& settings);

}  // namespace goro::debugvars

#endif  // GORO_DEBUGVARS_RENDER_H_
