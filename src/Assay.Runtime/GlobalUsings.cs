// Namespaces most builtins and template files use (the Lua embedding and its value bridge, text),
// so files list only what is particular to them.
global using System.Globalization;
global using System.Text;
global using Assay.Lua;
global using Assay.Lua.Values;
