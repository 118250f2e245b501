// Namespaces most CLI commands use (the command-line parser and JSON documents),
// so files list only what is particular to them.
global using System.CommandLine;
global using System.Text;
global using System.Text.Json;
global using System.Text.Json.Nodes;
