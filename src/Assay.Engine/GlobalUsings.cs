// Namespaces most of the engine's files use (the engine core, JSON, and the ASP.NET Core pieces that
// the Web SDK would import implicitly), so files list only what is particular to them.
global using System.Globalization;
global using System.Text;
global using System.Text.Json;
global using Assay.Engine.Core;
global using Microsoft.AspNetCore.Builder;
global using Microsoft.AspNetCore.Http;
global using Microsoft.AspNetCore.Routing;
global using Microsoft.Extensions.Hosting;
global using Microsoft.Extensions.Logging;
